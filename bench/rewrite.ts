// URL rewrite benchmark on a lab node (issue 11): the helper's serialized-safe search-replace (pl-wp.php, as imports,
// promotions and clones run it) against a plain SQL REPLACE over the same columns, on a generated database of
// >= 100 MB with serialized (postmeta), JSON-escaped block markup (posts) and JSON (options) content, every row unique.
// Reports MB/s of both, their ratio, and how many serialized values each leaves unparsable.
// Run (root, on a lab whose node1 was provisioned, e.g. an e2e lab kept with PRESSLUFT_E2E_KEEP_LAB=1):
//   PRESSLUFT_LAB=<instance> npm run bench:rewrite        (BENCH_ROWS=45000 per table)
// Works only inside node1 (labExec); uses its own database `plbench` and /tmp/plbench, removed afterwards.
import crypto from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'
import { labExec } from '../tests/lab/lab.js'

const instance = process.env.PRESSLUFT_LAB ?? 'bench'
const ROWS = Number(process.env.BENCH_ROWS ?? 45_000)
const FROM = 'http://old-host.example'
const TO = 'https://new-host.example.org'
const root = path.resolve(import.meta.dirname, '..')

const node = async (argv: string[], input?: string) => labExec('node1', argv, { instance, input })
const sql = async (query: string) => (await node(['mariadb', '-N', '-B', '--raw', 'plbench', '-e', query])).stdout.trim()

async function generate(): Promise<number> {
  await node(['mariadb', '-e', 'DROP DATABASE IF EXISTS plbench; CREATE DATABASE plbench'])
  await sql(`
    CREATE TABLE wp_options (option_id bigint unsigned NOT NULL AUTO_INCREMENT PRIMARY KEY, option_name varchar(191) NOT NULL UNIQUE,
      option_value longtext NOT NULL, autoload varchar(20) NOT NULL DEFAULT 'yes');
    CREATE TABLE wp_posts (ID bigint unsigned NOT NULL AUTO_INCREMENT PRIMARY KEY, post_title text NOT NULL, post_content longtext NOT NULL);
    CREATE TABLE wp_postmeta (meta_id bigint unsigned NOT NULL AUTO_INCREMENT PRIMARY KEY, post_id bigint unsigned NOT NULL,
      meta_key varchar(255), meta_value longtext, KEY post_id (post_id));
    SET SESSION max_recursive_iterations = ${ROWS + 10};
    INSERT INTO wp_postmeta (post_id, meta_key, meta_value)
      WITH RECURSIVE seq(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM seq WHERE n < ${ROWS})
      SELECT n, '_pl_settings', CONCAT('a:3:{s:3:"url";s:', LENGTH(u), ':"', u, '";s:4:"text";s:', LENGTH(t), ':"', t, '";s:2:"id";i:', n, ';}')
      FROM (SELECT n, CONCAT('${FROM}/item/', n, '/') AS u,
        CONCAT(REPEAT('Lorem ipsum dolor sit amet, consectetur adipiscing elit. ', 18), ' see ${FROM}/about/ #', n) AS t FROM seq) x;
    INSERT INTO wp_posts (post_title, post_content)
      WITH RECURSIVE seq(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM seq WHERE n < ${ROWS})
      SELECT CONCAT('Post ', n), CONCAT('<!-- wp:image {"url":"${FROM.replace(/\//g, '\\\\/')}\\\\/wp-content\\\\/uploads\\\\/', n, '.png"} -->',
        '<p>', REPEAT('Sed ut perspiciatis unde omnis iste natus error sit voluptatem. ', 16), '<a href="${FROM}/p/', n, '">link</a></p>')
      FROM seq;
    INSERT INTO wp_options (option_name, option_value)
      WITH RECURSIVE seq(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM seq WHERE n < ${Math.round(ROWS / 4)})
      SELECT CONCAT('pl_bench_', n), CONCAT('{"home":"${FROM.replace(/\//g, '\\\\/')}\\\\/","id":', n, ',"pad":"', REPEAT('x', 900), '"}') FROM seq;`)
  return Number(await sql(`SELECT (SELECT SUM(LENGTH(meta_value) + LENGTH(meta_key)) FROM wp_postmeta)
    + (SELECT SUM(LENGTH(post_content) + LENGTH(post_title)) FROM wp_posts) + (SELECT SUM(LENGTH(option_value) + LENGTH(option_name)) FROM wp_options)`))
}

async function unparsable(): Promise<{ seen: number; bad: number }> {
  const out = await node(['php', '-r', `$db = new mysqli('localhost', 'root', '', 'plbench'); $seen = 0; $bad = 0;
    $r = $db->query('SELECT meta_value FROM wp_postmeta');
    while ($row = $r->fetch_row()) { $seen++; if (@unserialize($row[0], ['allowed_classes' => false]) === false) $bad++; }
    echo json_encode(['seen' => $seen, 'bad' => $bad]);`])
  return JSON.parse(out.stdout) as { seen: number; bad: number }
}

async function main() {
  // The helper of this checkout, with a wp-config of a scratch database user (search-replace does not load WordPress).
  const password = crypto.randomBytes(16).toString('hex')
  await node(['sh', '-c', 'rm -rf /tmp/plbench && mkdir -p /tmp/plbench && touch /tmp/plbench/wp-load.php && cat > /tmp/plbench/pl-wp.php'],
    fs.readFileSync(path.join(root, 'ansible/roles/pressluft-helper/files/pl-wp.php'), 'utf8'))
  // pl-wp.php includes the rewrite from the file beside it.
  await node(['sh', '-c', 'cat > /tmp/plbench/pl-replace.php'], fs.readFileSync(path.join(root, 'ansible/roles/pressluft-helper/files/pl-replace.php'), 'utf8'))
  await node(['sh', '-c', 'cat > /tmp/plbench/wp-config.php'], `<?php\ndefine('DB_NAME', 'plbench');\ndefine('DB_USER', 'plbench');\n` +
    `define('DB_PASSWORD', '${password}');\ndefine('DB_HOST', 'localhost');\n$table_prefix = 'wp_';\n`)
  await node(['mariadb', '-e', `DROP USER IF EXISTS plbench@localhost; CREATE USER plbench@localhost IDENTIFIED BY '${password}';
    GRANT ALL ON plbench.* TO plbench@localhost`])
  try {
    const bytes = await generate()
    const mb = bytes / 1e6
    console.log(`generated ${mb.toFixed(1)} MB in wp_postmeta (serialized), wp_posts (JSON-escaped block markup), wp_options (JSON); ${ROWS} rows per table`)

    let t0 = Date.now()
    const helper = await node(['php', '/tmp/plbench/pl-wp.php', '--root=/tmp/plbench', 'search-replace', `--from=${FROM}`, `--to=${TO}`])
    const helperSeconds = (Date.now() - t0) / 1000
    const report = JSON.parse(helper.stdout) as { rows: number; replacements: number; unparsable: number }
    const afterHelper = await unparsable()
    const leftHelper = Number(await sql(`SELECT COUNT(*) FROM wp_postmeta WHERE meta_value LIKE '%old-host.example%'`))

    await generate()
    t0 = Date.now()
    const jsonFrom = FROM.replace(/\//g, '\\\\/')
    const jsonTo = TO.replace(/\//g, '\\\\/')
    await sql(`UPDATE wp_postmeta SET meta_value = REPLACE(meta_value, '${FROM}', '${TO}'), meta_key = REPLACE(meta_key, '${FROM}', '${TO}');
      UPDATE wp_posts SET post_content = REPLACE(REPLACE(post_content, '${FROM}', '${TO}'), '${jsonFrom}', '${jsonTo}'), post_title = REPLACE(post_title, '${FROM}', '${TO}');
      UPDATE wp_options SET option_value = REPLACE(REPLACE(option_value, '${FROM}', '${TO}'), '${jsonFrom}', '${jsonTo}'), option_name = REPLACE(option_name, '${FROM}', '${TO}');`)
    const sqlSeconds = (Date.now() - t0) / 1000
    const afterSql = await unparsable()

    console.log(`helper search-replace: ${helperSeconds.toFixed(1)} s = ${(mb / helperSeconds).toFixed(2)} MB/s; ${report.rows} rows changed; ` +
      `serialized values unparsable afterwards ${afterHelper.bad} of ${afterHelper.seen}; old host left in postmeta: ${leftHelper}`)
    console.log(`plain SQL REPLACE:     ${sqlSeconds.toFixed(1)} s = ${(mb / sqlSeconds).toFixed(2)} MB/s; serialized values unparsable afterwards ${afterSql.bad} of ${afterSql.seen}`)
    console.log(`ratio (helper time / REPLACE time): ${(helperSeconds / sqlSeconds).toFixed(1)}x`)
  } finally {
    await node(['mariadb', '-e', 'DROP DATABASE IF EXISTS plbench; DROP USER IF EXISTS plbench@localhost'])
    await node(['rm', '-rf', '/tmp/plbench'])
  }
}

await main()
