// Backup benchmark on a lab node: a generated site (≥ 200 MB uploads, ~50 MB database), then per round, in one run:
//   1. the bare tools on the same paths: `mariadb-dump … | gzip > file` then `tar czf file` of the release and uploads,
//   2. backup-create.yml scope full, the whole job as the runner starts it (dump + archive streamed through pigz into
//      rclone with their SHA-256, manifest, read-back of every object from the store), and the ratio job / bare tools,
//   2a. the helper alone (pl-backup.py create, the same work without Ansible), to show what Ansible adds,
//   3. env-restore.yml of that backup while a request loop (2 req/s, half past the page cache) measures 5xx and the unavailability window.
// Odd rounds run the bare tools first, even rounds the job first (the page cache favours whichever runs second).
// The playbooks run with ansible-playbook exactly as the runner invokes them (inventory + vars.json), against the lab's
// S3 server. Run: PRESSLUFT_LAB=<instance> npm run bench:backup   (BENCH_UPLOAD_MB=200 BENCH_DB_MB=50 BENCH_ROUNDS=3)
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import crypto from 'node:crypto'
import { fileURLToPath } from 'node:url'
import { execa } from 'execa'
import { labExec, labUp, type LabStatus } from '../tests/lab/lab.js'
import { startRequestLoop, type LoopReport } from '../tests/support/request-loop.js'

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const UPLOAD_MB = Number(process.env.BENCH_UPLOAD_MB ?? 200)
const DB_MB = Number(process.env.BENCH_DB_MB ?? 50)
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3)
const PROFILE = process.env.BENCH_PROFILE === '1'
const instance = process.env.PRESSLUFT_LAB ?? 'bench'

// Fixed ids: a rerun finds the generated site and reuses it.
const SITE = 'be0c0000-0000-4000-8000-000000000001'
const ENV = 'be0c0001-0000-4000-8000-000000000001'
const UUID8 = ENV.slice(0, 8)
const ENV_ROOT = `/var/www/sites/${SITE}/production`
const DB = `wp_${UUID8}`

async function main(): Promise<void> {
  const lab: LabStatus = await labUp({ instance, nodes: 1 })
  const node = lab.nodes[0]
  const LAB = { instance }
  const sh = async (script: string) => (await labExec('node1', ['sh', '-c', script], { ...LAB, reject: false }))
  const run = fs.mkdtempSync(path.join(os.tmpdir(), 'plb-'))
  fs.writeFileSync(path.join(run, 'inventory.ini'),
    `[target]\nnode ansible_host=${node.ip} ansible_port=${node.ssh_port} ansible_user=root ansible_ssh_private_key_file=${node.ssh_key} ansible_python_interpreter=/usr/bin/python3\n`)
  const previewHost = `${UUID8}.${node.ip.replaceAll('.', '-')}.sslip.io`
  const base = {
    job_id: crypto.randomUUID(), node_id: crypto.randomUUID(), node_hostname: node.ip, node_public_ip: node.ip, node_ssh_user: 'root',
    node_is_local: false, pressluft_result_path: path.join(run, 'result.json'),
  }
  const envVars = {
    site_id: SITE, site_slug: 'bench', environment_id: ENV, environment_slug: 'production', environment_type: 'production',
    env_uuid8: UUID8, env_user: DB, env_root: ENV_ROOT, env_db_name: DB, env_db_user: DB,
    env_db_password: 'bench-db-password-0123456789abcdef', env_wp_salts: 'bench-salts-secret',
    php_fpm_socket: `/run/php/pressluft-${UUID8}.sock`, preview_url: `http://${previewHost}`, preview_host: previewHost,
    canonical_url: `http://${previewHost}`, primary_domain_hostname: '', fastcgi_cache_enabled: true, redis_cache_enabled: true,
    redis_prefix: `pressluft_${ENV}:`,
  }
  const storage = {
    s3_endpoint: lab.s3.endpoint, s3_region: lab.s3.region, s3_bucket: lab.s3.bucket,
    s3_access_key_id: lab.s3.access_key_id, s3_secret_access_key: lab.s3.secret_access_key, cleanup_storage_paths: [],
  }

  async function playbook(name: string, vars: Record<string, unknown>): Promise<number> {
    const varsFile = path.join(run, `${name}.json`)
    fs.writeFileSync(varsFile, JSON.stringify({ ...base, job_id: crypto.randomUUID(), ...vars }))
    const started = performance.now()
    const result = await execa('ansible-playbook', ['-i', path.join(run, 'inventory.ini'), '-e', `@${varsFile}`,
      `--ssh-extra-args=-o StrictHostKeyChecking=accept-new -o UserKnownHostsFile=${path.join(run, 'known_hosts')}`,
      `ansible/playbooks/${name}.yml`], {
      cwd: repoRoot, reject: false, all: true,
      env: {
        ANSIBLE_CONFIG: path.join(repoRoot, 'ansible/ansible.cfg'), ANSIBLE_SSH_CONTROL_PATH_DIR: path.join(run, 'cp'), ANSIBLE_NOCOLOR: '1',
        // BENCH_PROFILE=1: per-task times of backup-create (Ansible's profile_tasks callback) on stderr.
        ...(PROFILE ? { ANSIBLE_CALLBACKS_ENABLED: 'ansible.posix.profile_tasks' } : {}),
      },
    })
    const seconds = (performance.now() - started) / 1000
    if (result.exitCode !== 0) throw new Error(`${name} failed:\n${String(result.all).slice(-3000)}`)
    if (PROFILE && name === 'backup-create') console.error(String(result.all).split('\n').slice(-14).join('\n'))
    return seconds
  }

  // ---- a provisioned node with the generated site ----
  if ((await sh('test -f /etc/ansible/facts.d/pressluft.fact')).exitCode !== 0) {
    console.error('bench: provisioning node1 …')
    await playbook('node-provision', {
      job_type: 'node_provision', wp_core_url: 'distro', acme_directory_url: lab.acme.directory_url, acme_email: '',
      acme_ca_cert_pem: fs.readFileSync(lab.acme.ca_cert, 'utf8'), preview_domain: '', dns01_provider: '', dns01_credentials: '',
      control_plane_domain: '', control_plane_upstream: 'http://127.0.0.1:8080', control_plane_public_key: fs.readFileSync(`${node.ssh_key}.pub`, 'utf8').trim(),
    })
  }
  const current = (await sh(`readlink ${ENV_ROOT}/current`)).stdout.trim()
  if (!current) {
    console.error('bench: creating the site …')
    await playbook('site-create', {
      job_type: 'site_create', ...envVars, release_id: crypto.randomUUID(), release_path: `${ENV_ROOT}/releases/20261129000000`,
      current_release_path: '', previous_release_path: '', wp_title: 'Backup Bench', wp_admin_user: 'pressluft',
      wp_admin_email: 'admin@pressluft.local', wp_admin_password: 'bench-admin-password',
    })
  }
  const uploadedMb = Number((await sh(`du -sm ${ENV_ROOT}/shared/uploads | cut -f1`)).stdout.trim())
  if (uploadedMb < UPLOAD_MB) {
    console.error(`bench: generating ${UPLOAD_MB} MB of uploads …`)
    // Like a media library: mostly already-compressed images (random bytes), plus some compressible documents.
    await sh(`cd ${ENV_ROOT}/shared/uploads && mkdir -p 2026/11 && cd 2026/11 &&
      for i in $(seq 1 ${Math.ceil((UPLOAD_MB * 0.8) / 2)}); do head -c 2097152 /dev/urandom > photo-$i.jpg; done &&
      for i in $(seq 1 ${Math.ceil((UPLOAD_MB * 0.2) / 2)}); do base64 -w 100 /dev/urandom | head -c 2097152 > doc-$i.txt; done &&
      chown -R ${DB}:www-data ${ENV_ROOT}/shared/uploads`)
  }
  const dbMb = Number((await sh(`mariadb -N -e "SELECT ROUND(SUM(data_length + index_length) / 1048576) FROM information_schema.tables WHERE table_schema = '${DB}'"`)).stdout.trim())
  if (dbMb < DB_MB) {
    console.error(`bench: generating ~${DB_MB} MB of posts …`)
    const rows = Math.ceil((DB_MB * 1024 * 1024) / 2600)
    await sh(`mariadb ${DB} -e "INSERT INTO wp_posts (post_author, post_date, post_date_gmt, post_content, post_title, post_excerpt, post_status, post_name, to_ping, pinged, post_modified, post_modified_gmt, post_content_filtered, guid, post_type)
      SELECT 1, NOW(), NOW(), REPEAT(CONCAT(MD5(RAND()), ' Lorem ipsum dolor sit amet, consectetur adipiscing elit. '), 28), CONCAT('Bench post ', seq), '', 'publish', CONCAT('bench-post-', seq), '', '', NOW(), NOW(), '', CONCAT('http://${previewHost}/?p=', seq), 'post'
      FROM seq_1_to_${rows}"`)
  }
  // InnoDB's table sizes in information_schema are estimates until the statistics are refreshed.
  await sh(`mariadb ${DB} -e "ANALYZE TABLE wp_posts"`)
  const sizes = (await sh(`du -sm ${ENV_ROOT}/shared/uploads | cut -f1; mariadb -N -e "SELECT ROUND(SUM(data_length + index_length) / 1048576) FROM information_schema.tables WHERE table_schema = '${DB}'"; nproc`)).stdout.trim().split('\n')
  const rel = (await sh(`readlink -f ${ENV_ROOT}/current`)).stdout.trim()

  const results: Record<string, number | string>[] = []
  const loadavg = async () => (await sh('cut -d" " -f1-3 /proc/loadavg')).stdout.trim()

  async function bareTools(): Promise<{ dump: number; tar: number }> {
    const bare = await sh(`set -e; cd /tmp; s=$(date +%s.%N)
      mariadb-dump --single-transaction --quick --routines --triggers --default-character-set=utf8mb4 ${DB} | gzip > /tmp/bare.sql.gz
      m=$(date +%s.%N)
      tar czf /tmp/bare.tar.gz -C ${path.dirname(rel)} ${path.basename(rel)} -C ${ENV_ROOT}/shared uploads
      e=$(date +%s.%N); echo "$s $m $e"; rm -f /tmp/bare.sql.gz /tmp/bare.tar.gz`)
    if (bare.exitCode !== 0) throw new Error(`bare tools failed: ${bare.stderr}`)
    const [s, m, e] = bare.stdout.split('\n')[0].split(' ').map(Number)
    return { dump: m - s, tar: e - m }
  }

  async function backupJob(): Promise<{ seconds: number; backupId: string; storagePath: string; result: { checksum: string; size_bytes: number } }> {
    const backupId = crypto.randomUUID()
    const storagePath = `s3://${lab.s3.bucket}/pressluft/${SITE}/${ENV}/${backupId}/`
    const seconds = await playbook('backup-create', {
      job_type: 'backup_create', ...envVars, ...storage, backup_id: backupId, backup_scope: 'full', backup_storage_path: storagePath, backup_checksum: '',
    })
    const result = JSON.parse(fs.readFileSync(path.join(run, 'result.json'), 'utf8')) as { checksum: string; size_bytes: number }
    return { seconds, backupId, storagePath, result }
  }

  for (let round = 1; round <= ROUNDS; round++) {
    const loadBefore = await loadavg()
    let bare: { dump: number; tar: number }
    let job: Awaited<ReturnType<typeof backupJob>>
    if (round % 2 === 1) {
      bare = await bareTools()
      job = await backupJob()
    } else {
      job = await backupJob()
      bare = await bareTools()
    }
    const loadAfterBackup = await loadavg()
    const bareTotal = bare.dump + bare.tar

    // ---- 2a. the helper alone: the same streaming backup without Ansible (credentials on stdin as the playbook passes them) ----
    const helperPath = `s3://${lab.s3.bucket}/pressluft/${SITE}/${ENV}/${crypto.randomUUID()}/`
    const helper = await labExec('node1', ['sh', '-c', `s=$(date +%s.%N); /usr/local/lib/pressluft/pl-backup.py create --remote=${helperPath} --scope=full --db=${DB} --release=${ENV_ROOT}/current --uploads=${ENV_ROOT}/shared/uploads --backup-id=bench --environment-id=${ENV} --created-at=now --site-url=http://${previewHost} >/tmp/bench-helper.json; r=$?; e=$(date +%s.%N); echo "$s $e $r"`], {
      ...LAB, reject: false,
      input: JSON.stringify({ access_key_id: lab.s3.access_key_id, secret_access_key: lab.s3.secret_access_key, endpoint: lab.s3.endpoint, region: lab.s3.region }),
    })
    const [h0, h1, hr] = helper.stdout.trim().split(' ').map(Number)
    if (hr !== 0) throw new Error(`pl-backup.py create failed: ${(await sh('cat /tmp/bench-helper.json')).stdout}`)
    await labExec('node1', ['/usr/local/lib/pressluft/pl-backup.py', 'rclone', '--', 'purge', helperPath.replace('s3://', 'pls3:')], {
      ...LAB, reject: false, input: JSON.stringify({ access_key_id: lab.s3.access_key_id, secret_access_key: lab.s3.secret_access_key, endpoint: lab.s3.endpoint, region: lab.s3.region }),
    })

    // ---- 3. env_restore of the job's backup under a request loop ----
    const before = (await sh(`readlink ${ENV_ROOT}/current`)).stdout.trim()
    const stamp = new Date().toISOString().replace(/[-:T]/g, '').slice(0, 14)
    const loop = startRequestLoop({ ip: node.ip, host: previewHost, ratePerSecond: 2, alternate: true, maxSeconds: 1200 })
    let restoreSeconds: number
    let report: LoopReport
    try {
      restoreSeconds = await playbook('env-restore', {
        job_type: 'env_restore', ...envVars, ...storage, backup_id: job.backupId, backup_scope: 'full', backup_storage_path: job.storagePath,
        backup_checksum: job.result.checksum, release_id: crypto.randomUUID(), release_path: `${ENV_ROOT}/releases/${stamp}`,
        current_release_path: `${ENV_ROOT}/${before}`, previous_release_path: `${ENV_ROOT}/${before}`,
      })
    } finally {
      report = await loop.stop()
    }
    results.push({
      round, order: round % 2 === 1 ? 'bare first' : 'job first', load_before: loadBefore, load_after_backup: loadAfterBackup,
      bare_dump_gzip_s: +bare.dump.toFixed(1), bare_tar_czf_s: +bare.tar.toFixed(1), bare_total_s: +bareTotal.toFixed(1),
      backup_create_s: +job.seconds.toFixed(1), ratio: +(job.seconds / bareTotal).toFixed(2),
      helper_alone_s: +(h1 - h0).toFixed(1), helper_ratio: +((h1 - h0) / bareTotal).toFixed(2),
      backup_size_mb: +(job.result.size_bytes / 1048576).toFixed(1),
      restore_total_s: +restoreSeconds.toFixed(1), loop_requests: report.total, loop_5xx: report.serverErrors, loop_no_answer: report.noAnswer,
      loop_max_latency_ms: report.maxLatencyMs, unavailable_ms: report.unavailableMs,
    })
    console.error(`bench round ${round}: backup_create ${job.seconds.toFixed(1)} s / bare tools ${bareTotal.toFixed(1)} s = ${(job.seconds / bareTotal).toFixed(2)}x (load ${loadBefore} → ${loadAfterBackup}) ${JSON.stringify(results[results.length - 1])}`)
  }
  const ratios = results.map((r) => Number(r.ratio))
  console.log(JSON.stringify({
    uploads_mb: Number(sizes[0]), db_mb: Number(sizes[1]), node_cpus: Number(sizes[2]), load_after: await loadavg(),
    compressor: 'pigz -6 (gzip -6 without pigz)', goal_ratio: 1.25, ratio_min: Math.min(...ratios), ratio_max: Math.max(...ratios), results,
  }, null, 2))
  console.error(`bench: backup_create full / bare tools = ${Math.min(...ratios).toFixed(2)}–${Math.max(...ratios).toFixed(2)}x over ${ratios.length} round(s) (goal ≤ 1.25x)`)
  fs.rmSync(run, { recursive: true, force: true })
}

await main()
