// End to end through the HTTP API on a lab node: drift checks, promotion (env_promote with commerce-protect) and site
// import (site_import with its archive validator and SSRF defence). WooCommerce cannot be downloaded in the lab, so its
// tables are created with their real schemas (tests/fixtures/woocommerce-tables.sql) and orders are written as
// WooCommerce writes them (HPOS tables plus a shop_order_placehold row in wp_posts, order items, lookup tables).
import fs from 'node:fs'
import http from 'node:http'
import os from 'node:os'
import path from 'node:path'
import { execFileSync } from 'node:child_process'
import type { AddressInfo } from 'node:net'
import { describe, it, expect, beforeAll, afterAll } from 'vitest'
import { labExec } from '../lab/lab.js'
import { openE2e, createSite, configureLabS3, type E2e, type CreatedSite } from '../support/e2e.js'
import { waitForJob, type JobView } from '../support/jobs.js'
import { startRequestLoop } from '../support/request-loop.js'
import { queryOne } from '../../runtime/store/db.js'

const repoRoot = path.resolve(import.meta.dirname, '../..')
// Slugs unique per run, so a kept lab and control plane (PRESSLUFT_E2E_KEEP_LAB) can run this file again.
const RUN = Date.now().toString(36).slice(-5)
const PROTECTED_COMMERCE = ['posts', 'postmeta', 'comments', 'commentmeta', 'users', 'usermeta', 'woocommerce_order_items',
  'woocommerce_order_itemmeta', 'wc_orders', 'wc_orders_meta', 'wc_order_addresses', 'wc_order_operational_data', 'wc_order_stats',
  'wc_order_product_lookup', 'wc_customer_lookup', 'woocommerce_payment_tokens', 'woocommerce_payment_tokenmeta']

interface EnvView {
  id: string; slug: string; status: string; preview_url: string; drift_status: string; current_release_id: string | null
  drift_differences: { tables: string[]; paths: string[]; protected_tables: string[]; protected_paths: string[] } | null
}

function httpGet(ip: string, host: string, urlPath = '/'): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: ip, port: 80, path: urlPath, headers: { host }, timeout: 20_000 }, (res) => {
      let body = ''
      res.on('data', (d) => { body += d })
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }))
    })
    req.on('error', reject)
    req.on('timeout', () => req.destroy(new Error('timeout')))
    req.end()
  })
}

describe('drift checks, promotion and import on a lab node', () => {
  let e2e: E2e
  let lab: { instance: string }
  let ip: string
  let shop: CreatedSite
  let staging: EnvView
  let prodDb: string
  let stagingDb: string
  let prodRoot: string
  let stagingRoot: string
  let archiveServer: http.Server | undefined
  let archiveBase = ''
  let gateway = ''
  let archivePort = 0
  const archives = new Map<string, Buffer>()

  const node = (argv: string[], input?: string) => labExec('node1', argv, { ...lab, input })
  const sql = async (db: string, query: string) => (await node(['mariadb', '-N', '-B', '--raw', db, '-e', query])).stdout.trim()
  const env = async (id: string) => await (await e2e.cp.request('GET', `/api/environments/${id}`)).json() as EnvView
  const checksums = async (db: string, tables: string[]) => {
    const out = await sql(db, `CHECKSUM TABLE ${tables.map((t) => `wp_${t}`).join(', ')}`)
    return Object.fromEntries(out.split('\n').map((l) => l.split('\t')).map(([t, c]) => [t.split('.')[1], c]))
  }
  const autoIncrements = async (db: string) => Object.fromEntries((await sql(db,
    `SELECT TABLE_NAME, AUTO_INCREMENT FROM information_schema.TABLES WHERE TABLE_SCHEMA = '${db}' AND AUTO_INCREMENT IS NOT NULL`))
    .split('\n').map((l) => l.split('\t')).map(([t, v]) => [t, Number(v)]))
  const accepted = async (res: Response) => {
    const text = await res.text()
    expect(res.status, text).toBe(202)
    return (JSON.parse(text) as { job_id: string }).job_id
  }
  const driftCheck = async (envId: string) => {
    const job = await waitForJob(e2e.cp, await accepted(await e2e.cp.request('POST', `/api/environments/${envId}/drift-check`)))
    expect(job.error_message ?? '').toBe('')
    expect(job.status).toBe('succeeded')
    return env(envId)
  }
  const fullBackup = async (envId: string) => {
    const job = await waitForJob(e2e.cp, await accepted(await e2e.cp.request('POST', `/api/environments/${envId}/backups`, { backup_scope: 'full' })))
    expect(job.error_message ?? '').toBe('')
    expect(job.status).toBe('succeeded')
  }
  const allowSources = async (value: string | null) => {
    const res = await e2e.cp.request('PATCH', '/_admin/settings', { import_allowed_sources: value })
    expect(res.status, await res.clone().text()).toBe(200)
  }
  /** The job and its follow-ups (health_check, release_rollback), each waited for. */
  const chain = async (jobId: string): Promise<JobView[]> => {
    const jobs = [await waitForJob(e2e.cp, jobId)]
    for (;;) {
      const next = await queryOne<{ id: string }>(e2e.cp.services.db, 'SELECT id FROM jobs WHERE parent_job_id = ? ORDER BY created_at LIMIT 1', [jobs[jobs.length - 1].id])
      if (!next) return jobs
      jobs.push(await waitForJob(e2e.cp, next.id))
    }
  }
  /** Places a WooCommerce order (HPOS) by a customer account, as WooCommerce writes it; returns the order id. */
  const placeOrder = async (db: string, email: string, total: string) => {
    const out = await sql(db, `
      INSERT INTO wp_users (user_login, user_pass, user_nicename, user_email, user_registered, display_name)
        VALUES ('${email}', '$P$Bxxxxxxxxxxxxxxxxxxxxxxxxxxxxx.', '${email.split('@')[0]}', '${email}', NOW(), '${email}');
      SET @uid = LAST_INSERT_ID();
      INSERT INTO wp_usermeta (user_id, meta_key, meta_value) VALUES (@uid, 'wp_capabilities', 'a:1:{s:8:"customer";b:1;}'),
        (@uid, 'billing_email', '${email}');
      INSERT INTO wp_wc_customer_lookup (user_id, username, first_name, last_name, email, date_registered, country)
        VALUES (@uid, '${email}', 'Test', 'Customer', '${email}', NOW(), 'DE');
      INSERT INTO wp_woocommerce_payment_tokens (gateway_id, token, user_id, type, is_default) VALUES ('stripe', 'tok_${total}', @uid, 'CC', 1);
      INSERT INTO wp_woocommerce_payment_tokenmeta (payment_token_id, meta_key, meta_value) VALUES (LAST_INSERT_ID(), 'last4', '4242');
      INSERT INTO wp_posts (post_author, post_date, post_date_gmt, post_content, post_title, post_excerpt, post_status, comment_status,
          ping_status, post_name, to_ping, pinged, post_modified, post_modified_gmt, post_content_filtered, post_type)
        VALUES (1, NOW(), UTC_TIMESTAMP(), '', 'Order', '', 'draft', 'closed', 'closed', 'order', '', '', NOW(), UTC_TIMESTAMP(), '', 'shop_order_placehold');
      SET @oid = LAST_INSERT_ID();
      INSERT INTO wp_wc_orders (id, status, currency, type, total_amount, customer_id, billing_email, date_created_gmt, date_updated_gmt,
          payment_method, payment_method_title) VALUES (@oid, 'wc-processing', 'EUR', 'shop_order', ${total}, @uid, '${email}',
          UTC_TIMESTAMP(), UTC_TIMESTAMP(), 'stripe', 'Card');
      INSERT INTO wp_wc_order_addresses (order_id, address_type, first_name, last_name, city, country, email)
        VALUES (@oid, 'billing', 'Test', 'Customer', 'Berlin', 'DE', '${email}');
      INSERT INTO wp_wc_order_operational_data (order_id, created_via, woocommerce_version, order_key, date_paid_gmt)
        VALUES (@oid, 'checkout', '8.9.1', CONCAT('wc_order_', @oid), UTC_TIMESTAMP());
      INSERT INTO wp_wc_orders_meta (order_id, meta_key, meta_value) VALUES (@oid, '_stripe_charge_captured', 'yes');
      INSERT INTO wp_woocommerce_order_items (order_item_name, order_item_type, order_id) VALUES ('Hoodie', 'line_item', @oid);
      SET @item = LAST_INSERT_ID();
      INSERT INTO wp_woocommerce_order_itemmeta (order_item_id, meta_key, meta_value) VALUES (@item, '_qty', '1'), (@item, '_line_total', '${total}');
      INSERT INTO wp_wc_order_stats (order_id, date_created, date_created_gmt, num_items_sold, total_sales, net_total, status, customer_id)
        VALUES (@oid, NOW(), UTC_TIMESTAMP(), 1, ${total}, ${total}, 'wc-processing', @uid);
      INSERT INTO wp_wc_order_product_lookup (order_item_id, order_id, product_id, variation_id, customer_id, date_created, product_qty,
          product_net_revenue, product_gross_revenue) VALUES (@item, @oid, 10, 0, @uid, NOW(), 1, ${total}, ${total});
      SELECT @oid;`)
    return Number(out.split('\n').pop())
  }

  beforeAll(async () => {
    e2e = await openE2e()
    lab = { instance: e2e.instance }
    ip = e2e.node.ip
    await configureLabS3(e2e)
    shop = await createSite(e2e, { slug: `pi-shop-${RUN}`, name: 'PI Shop' })
    prodDb = `wp_${shop.envId.slice(0, 8)}`
    prodRoot = `/var/www/sites/${shop.siteId}/production`
    await node(['mariadb', prodDb], fs.readFileSync(path.join(repoRoot, 'tests/fixtures/woocommerce-tables.sql'), 'utf8'))
    await placeOrder(prodDb, 'first@example.org', '10.00')
    const job = await waitForJob(e2e.cp, await accepted(await e2e.cp.request('POST', `/api/sites/${shop.siteId}/environments`, {
      name: 'Staging', slug: 'staging', type: 'staging', source_environment_id: shop.envId, promotion_preset: 'commerce-protect',
    })))
    expect(job.error_message ?? '').toBe('')
    const envs = await (await e2e.cp.request('GET', `/api/sites/${shop.siteId}/environments`)).json() as { items: EnvView[] }
    staging = envs.items.find((e) => e.slug === 'staging')!
    stagingDb = `wp_${staging.id.slice(0, 8)}`
    stagingRoot = `/var/www/sites/${shop.siteId}/staging`

    // Archives are served from the lab bridge: a lab address that is not the node's own.
    archiveServer = http.createServer((req, res) => {
      const name = (req.url ?? '').replace(/^\//, '')
      if (name.startsWith('redirect-to-loopback')) { res.writeHead(302, { location: 'http://127.0.0.1:22/x.tar.gz' }); res.end(); return }
      const body = archives.get(name)
      if (!body) { res.writeHead(404); res.end(); return }
      res.writeHead(200, { 'content-type': 'application/gzip', 'content-length': body.length })
      res.end(body)
    })
    gateway = new URL(e2e.lab.s3.endpoint).hostname
    await new Promise<void>((resolve) => archiveServer!.listen(0, gateway, resolve))
    archivePort = (archiveServer.address() as AddressInfo).port
    archiveBase = `http://${gateway}:${archivePort}`
  })

  afterAll(async () => {
    await new Promise((resolve) => archiveServer ? archiveServer.close(resolve) : resolve(undefined))
    await e2e?.close()
  })

  it('stays clean while production takes orders, customer accounts, comments, transients and cron runs, and names them as protected changes', async () => {
    await placeOrder(prodDb, 'second@example.org', '25.50')
    await sql(prodDb, `INSERT INTO wp_comments (comment_post_ID, comment_author, comment_content, comment_date, comment_date_gmt)
        VALUES (1, 'Visitor', 'Arrived after the clone', NOW(), UTC_TIMESTAMP());
      INSERT INTO wp_options (option_name, option_value, autoload) VALUES ('_transient_pl_test', 'x', 'no'), ('_site_transient_pl_test', 'y', 'no')
        ON DUPLICATE KEY UPDATE option_value = 'z';
      UPDATE wp_options SET option_value = 'a:1:{s:7:"version";i:2;}' WHERE option_name = 'cron';
      INSERT INTO wp_options (option_name, option_value, autoload) VALUES ('doing_cron', '1700000000.1', 'yes') ON DUPLICATE KEY UPDATE option_value = '1700000001.1';
      INSERT INTO wp_usermeta (user_id, meta_key, meta_value) VALUES (1, 'session_tokens', 'a:0:{}');
      INSERT INTO wp_actionscheduler_actions (hook, status, scheduled_date_gmt, scheduled_date_local, args, schedule)
        VALUES ('woocommerce_cleanup_draft_orders', 'pending', UTC_TIMESTAMP(), NOW(), '[]', 'O:30:"ActionScheduler_SimpleSchedule":0:{}');`)
    // Visits make WordPress write its own transients and run wp-cron.
    for (let i = 0; i < 3; i++) expect((await httpGet(ip, shop.previewHost, `/?visit=${i}`)).status).toBe(200)

    const checked = await driftCheck(staging.id)
    expect(checked.drift_status).toBe('clean')
    expect(checked.drift_differences).toMatchObject({ tables: [], paths: [] })
    expect(checked.drift_differences!.protected_tables).toEqual(expect.arrayContaining(['comments', 'posts', 'users', 'usermeta', 'wc_orders', 'woocommerce_order_items', 'wc_customer_lookup', 'woocommerce_payment_tokens']))
    const row = await queryOne<{ kind: string; status: string; differences_json: string }>(e2e.cp.services.db,
      "SELECT kind, status, differences_json FROM drift_checks WHERE environment_id = ? AND kind = 'check' ORDER BY checked_at DESC LIMIT 1", [staging.id])
    expect(row).toMatchObject({ kind: 'check', status: 'clean' })
    expect(JSON.parse(row!.differences_json).protected_tables).toContain('wc_orders')
  })

  it('reports drift naming the options table when production\'s site title changes, refuses the promotion, and is clean again once it is changed back', async () => {
    const title = await sql(prodDb, "SELECT option_value FROM wp_options WHERE option_name = 'blogname'")
    await sql(prodDb, "UPDATE wp_options SET option_value = 'PI Shop (changed live)' WHERE option_name = 'blogname'")
    const drifted = await driftCheck(staging.id)
    expect(drifted.drift_status).toBe('drifted')
    expect(drifted.drift_differences!.tables).toEqual(['options'])
    expect(drifted.drift_differences!.paths).toEqual([])
    await fullBackup(shop.envId)
    const refused = await e2e.cp.request('POST', `/api/environments/${staging.id}/promote`, { target_environment_id: shop.envId })
    expect(refused.status).toBe(409)
    expect((await refused.json()).code).toBe('drift_gate_unmet')

    await sql(prodDb, `UPDATE wp_options SET option_value = '${title.replace(/'/g, "''")}' WHERE option_name = 'blogname'`)
    expect((await driftCheck(staging.id)).drift_status).toBe('clean')
  })

  it('refuses to promote between environments whose table prefixes differ (TABLE_PREFIX_MISMATCH) and changes nothing', async () => {
    const config = `${stagingRoot}/shared/wp-config.php`
    await node(['sed', '-i', "s/^\\$table_prefix = 'wp_';/$table_prefix = 'wpx_';/", config])
    try {
      expect(await node(['grep', '-c', "wpx_", config]).then((r) => r.stdout.trim())).toBe('1')
      const before = await env(shop.envId)
      const job = await waitForJob(e2e.cp, await accepted(await e2e.cp.request('POST', `/api/environments/${staging.id}/promote`, { target_environment_id: shop.envId })))
      expect(job).toMatchObject({ status: 'failed', error_code: 'TABLE_PREFIX_MISMATCH' })
      const after = await env(shop.envId)
      expect(after).toMatchObject({ status: 'active', current_release_id: before.current_release_id })
    } finally {
      await node(['sed', '-i', "s/^\\$table_prefix = 'wpx_';/$table_prefix = 'wp_';/", config])
    }
  })

  it('switches tables and release back when the promoted production fails its health check', async () => {
    const muPlugin = `${stagingRoot}/current/wp-content/mu-plugins/pl-breaker.php`
    await node(['sh', '-c', `cat > ${muPlugin}`],
      `<?php\nif (($_SERVER['HTTP_HOST'] ?? '') === '${shop.previewHost}') { http_response_code(500); exit('broken on production'); }\n`)
    await sql(stagingDb, "UPDATE wp_options SET option_value = 'Broken staging tagline' WHERE option_name = 'blogdescription'")
    const tables = ['options', ...PROTECTED_COMMERCE]
    const current = async () => (await node(['readlink', `${prodRoot}/current`])).stdout.trim()
    const before = { sums: await checksums(prodDb, tables), release: (await env(shop.envId)).current_release_id, current: await current() }
    try {
      await driftCheck(staging.id)
      const job = await waitForJob(e2e.cp, await accepted(await e2e.cp.request('POST', `/api/environments/${staging.id}/promote`, { target_environment_id: shop.envId })))
      expect(job).toMatchObject({ status: 'failed', error_code: 'HEALTH_CHECK_FAILED' })
      expect(job.error_message).toContain('switched back')
      expect(await checksums(prodDb, tables)).toEqual(before.sums)
      expect(await sql(prodDb, "SHOW TABLES LIKE '\\_pl%'")).toBe('')
      const page = await httpGet(ip, shop.previewHost, '/?after-failed-promotion')
      expect(page.status).toBe(200)
      expect(page.body).not.toContain('Broken staging tagline')
      expect(await current()).toBe(before.current)
      // The job failed after changing the node, so the site and production await an operator's reset.
      expect((await env(shop.envId)).status).toBe('failed')
      expect((await e2e.cp.request('POST', `/api/sites/${shop.siteId}/reset`)).status).toBe(200)
      expect((await e2e.cp.request('POST', `/api/environments/${shop.envId}/reset`)).status).toBe(200)
      expect((await env(shop.envId)).current_release_id).toBe(before.release)
      // Nothing a promotion would overwrite differs from the clone any more.
      expect((await driftCheck(staging.id)).drift_status).toBe('clean')
    } finally {
      await node(['rm', '-f', muPlugin])
    }
  })

  it('promotes staging with commerce-protect without a 5xx: staging\'s theme and tagline go live, production\'s orders, customers, comments and uploads stay byte-identical', async () => {
    // Staging's changes: a child theme and the tagline.
    const theme = `${stagingRoot}/current/wp-content/themes/pl-child`
    await node(['sh', '-c', `mkdir -p ${theme} && cat > ${theme}/style.css && printf '<?php\\n' > ${theme}/functions.php && chown -R wp_${staging.id.slice(0, 8)} ${theme}`],
      '/*\nTheme Name: PL Child\nTemplate: twentytwentythree\n*/\n')
    await sql(stagingDb, `UPDATE wp_options SET option_value = 'Promoted from staging' WHERE option_name = 'blogdescription';
      UPDATE wp_options SET option_value = 'pl-child' WHERE option_name = 'stylesheet'`)
    await node(['sh', '-c', `echo staging-only > ${stagingRoot}/shared/uploads/staging-only.txt`])
    // Production after the clone: a third order and customer, an upload, and the newest order item deleted again
    // (so each AUTO_INCREMENT is above MAX(id) + 1 — copying or re-creating the table would lower it).
    await placeOrder(prodDb, 'third@example.org', '99.00')
    await sql(prodDb, 'DELETE FROM wp_woocommerce_order_items ORDER BY order_item_id DESC LIMIT 1')
    await node(['sh', '-c', `echo production-upload > ${prodRoot}/shared/uploads/production-only.txt`])
    const before = { sums: await checksums(prodDb, PROTECTED_COMMERCE), auto: await autoIncrements(prodDb) }
    const protectedAuto = PROTECTED_COMMERCE.map((t) => `wp_${t}`).filter((t) => t in before.auto)
    expect(protectedAuto.length).toBeGreaterThan(5)

    expect((await driftCheck(staging.id)).drift_status).toBe('clean')
    await fullBackup(shop.envId)
    // Production under a bounded request loop for the whole promotion (5 requests/s, every second one the cacheable
    // front page; lab address only). At 10 uncached requests/s the 2-core lab machine queued requests long enough for the
    // promotion's own health check (10 s timeout) to fail and switch back once.
    const loop = startRequestLoop({ ip, host: shop.previewHost, ratePerSecond: 5, maxSeconds: 300, alternate: true })
    const started = Date.now()
    const jobs = await chain(await accepted(await e2e.cp.request('POST', `/api/environments/${staging.id}/promote`, { target_environment_id: shop.envId })))
    const seconds = (Date.now() - started) / 1000
    const report = await loop.stop()
    for (const job of jobs) expect(job.error_message ?? '', job.job_type).toBe('')
    expect(jobs.map((j) => [j.job_type, j.status])).toEqual([['env_promote', 'succeeded'], ['health_check', 'succeeded']])
    console.log(`env_promote + health_check: ${seconds} s; request loop: ${report.total} requests, ${report.serverErrors} 5xx, ` +
      `${report.noAnswer} unanswered, longest unavailable span ${report.unavailableMs} ms, max latency ${report.maxLatencyMs} ms`)
    expect(report.serverErrors).toBe(0)
    expect(report.noAnswer).toBe(0)

    const page = await httpGet(ip, shop.previewHost, '/?after-promotion')
    expect(page.status).toBe(200)
    expect(page.body).toContain('Promoted from staging')
    expect(await sql(prodDb, "SELECT option_value FROM wp_options WHERE option_name = 'stylesheet'")).toBe('pl-child')
    expect((await node(['test', '-f', `${prodRoot}/current/wp-content/themes/pl-child/style.css`], undefined)).exitCode).toBe(0)
    // Orders (HPOS tables and their placeholder posts), order items, customers, payment tokens, comments: untouched.
    expect(await checksums(prodDb, PROTECTED_COMMERCE)).toEqual(before.sums)
    expect(await sql(prodDb, "SELECT COUNT(*) FROM wp_wc_orders WHERE billing_email IN ('second@example.org', 'third@example.org')")).toBe('2')
    const after = await autoIncrements(prodDb)
    for (const table of protectedAuto) expect(after[table], table).toBeGreaterThanOrEqual(before.auto[table])
    // Uploads are production's.
    expect((await node(['cat', `${prodRoot}/current/wp-content/uploads/production-only.txt`])).stdout.trim()).toBe('production-upload')
    expect((await labExec('node1', ['test', '-e', `${prodRoot}/shared/uploads/staging-only.txt`], { ...lab, reject: false })).exitCode).not.toBe(0)
    // No staging URL is left in production's tables, and the shadow/previous tables are gone.
    const dump = await node(['sh', '-c', `mariadb-dump --skip-extended-insert ${prodDb} | grep -c '${new URL(staging.preview_url).hostname}' || true`])
    expect(dump.stdout.trim()).toBe('0')
    expect(await sql(prodDb, "SHOW TABLES LIKE '\\_pl%'")).toBe('')
    expect(await env(shop.envId)).toMatchObject({ status: 'active' })
    // Production as promoted is staging's new baseline: staging's changes, now live, are not reported as drift.
    expect((await driftCheck(staging.id)).drift_status).toBe('clean')
  })

  it('imports a MySQL 8 style archive of another lab site with its own table prefix: it renders, no old host remains in any form, every serialized value still parses', async () => {
    const oldHost = shop.previewHost
    // Old URL in serialized (widget), JSON-escaped (block attributes) and URL-encoded (share link) form.
    const widget = `a:2:{i:2;a:2:{s:5:"title";s:5:"Links";s:4:"text";s:${`<a href="http://${oldHost}/about/">About</a>`.length}:"<a href="http://${oldHost}/about/">About</a>";}s:12:"_multiwidget";i:1;}`
    await sql(prodDb, `INSERT INTO wp_options (option_name, option_value, autoload) VALUES
        ('widget_text', '${widget}', 'yes'),
        ('pl_json', '{"home":"http:\\\\/\\\\/${oldHost}\\\\/shop\\\\/"}', 'no'),
        ('pl_encoded', 'https://share.example/?u=http%3A%2F%2F${oldHost}%2Fabout%2F', 'no')
      ON DUPLICATE KEY UPDATE option_value = VALUES(option_value);
      UPDATE wp_posts SET post_content = CONCAT(post_content, '<!-- wp:image {"url":"http:\\\\/\\\\/${oldHost}\\\\/wp-content\\\\/uploads\\\\/a.png"} /-->') WHERE ID = 1;`)
    const made = await node(['sh', '-c', `set -e; w=$(mktemp -d); mariadb-dump --single-transaction ${prodDb} > $w/db.sql
      mkdir -p $w/files/uploads; rsync -a --exclude=/uploads --exclude=/object-cache.php ${prodRoot}/current/wp-content/ $w/files/
      rsync -a ${prodRoot}/shared/uploads/ $w/files/uploads/
      sed -i -e 's/\`wp_/\`wpi_/g' -e "s/'wp_user_roles'/'wpi_user_roles'/" -e "s/'wp_capabilities'/'wpi_capabilities'/g" \\
        -e "s/'wp_user_level'/'wpi_user_level'/g" -e 's/utf8mb4_unicode_520_ci/utf8mb4_0900_ai_ci/g' -e 's/utf8mb4_unicode_ci/utf8mb4_0900_ai_ci/g' $w/db.sql
      grep -q utf8mb4_0900_ai_ci $w/db.sql
      printf '{"source_url": "http://${oldHost}"}' > $w/meta.json
      tar -C $w -czf - db.sql files meta.json | base64 -w0; rm -rf $w`])
    archives.set('good.tar.gz', Buffer.from(made.stdout.trim(), 'base64'))

    // This MariaDB does not know MySQL 8's collation: the import only works because the node maps it.
    expect(await sql(prodDb, "SHOW COLLATION LIKE 'utf8mb4_0900_ai_ci'")).toBe('')
    const target = await createSite(e2e, { slug: `pi-import-${RUN}`, name: 'PI Import Target' })
    const targetDb = `wp_${target.envId.slice(0, 8)}`
    // The lab serves archives from 198.18.0.0/15 (benchmarking, reserved): refused until the operator allows that address.
    await allowSources(null)
    const refused = await e2e.cp.request('POST', `/api/sites/${target.siteId}/import`, { archive_url: `${archiveBase}/good.tar.gz` })
    expect(refused.status).toBe(400)
    expect(JSON.stringify(await refused.json())).toMatch(/must not point at .*not in the import_allowed_sources setting/)
    await allowSources(gateway)
    const jobs = await chain(await accepted(await e2e.cp.request('POST', `/api/sites/${target.siteId}/import`, { archive_url: `${archiveBase}/good.tar.gz` })))
    for (const job of jobs) expect(job.error_message ?? '', job.job_type).toBe('')
    expect(jobs.map((j) => [j.job_type, j.status])).toEqual([['site_import', 'succeeded'], ['health_check', 'succeeded']])
    const release = await queryOne<{ notes: string }>(e2e.cp.services.db, 'SELECT notes FROM releases WHERE environment_id = ? ORDER BY created_at DESC LIMIT 1', [target.envId])
    // The archive is a MySQL 8 style dump (utf8mb4_0900_ai_ci) with table prefix wpi_, found in the dump (meta.json names none).
    expect(release?.notes).toBe(`imported from http://${oldHost} (table prefix wpi_)`)
    expect((await node(['grep', '-c', "^\\$table_prefix = 'wpi_';", `/var/www/sites/${target.siteId}/production/shared/wp-config.php`])).stdout.trim()).toBe('1')

    const page = await httpGet(ip, target.previewHost, '/?after-import')
    expect(page.status).toBe(200)
    expect(page.body).toContain('Promoted from staging')
    expect(page.body).not.toContain(oldHost)
    const dump = await node(['sh', '-c', `mariadb-dump --skip-extended-insert ${targetDb} | grep -c -e '${oldHost}' -e 'http%3A%2F%2F${oldHost}' || true`])
    expect(dump.stdout.trim()).toBe('0')
    expect(await sql(targetDb, "SELECT option_value FROM wpi_options WHERE option_name = 'pl_encoded'")).toBe(`https://share.example/?u=http%3A%2F%2F${target.previewHost}%2Fabout%2F`)
    expect(await sql(targetDb, "SELECT option_value FROM wpi_options WHERE option_name = 'pl_json'")).toBe(`{"home":"http:\\/\\/${target.previewHost}\\/shop\\/"}`)
    const parse = await node(['php', '-r', `
      $db = new mysqli('localhost', 'root', '', '${targetDb}');
      $bad = 0; $seen = 0;
      foreach (['wpi_options' => 'option_value', 'wpi_postmeta' => 'meta_value', 'wpi_usermeta' => 'meta_value'] as $t => $c) {
        $r = $db->query("SELECT $c FROM $t");
        while ($row = $r->fetch_row()) {
          $v = $row[0];
          if (!is_string($v) || !preg_match('/^(a|O|s|i|d|b):[0-9:]/', $v)) continue;
          $seen++;
          if (@unserialize($v, ['allowed_classes' => false]) === false && $v !== 'b:0;') $bad++;
        }
      }
      echo json_encode(['seen' => $seen, 'bad' => $bad]);`])
    const parsed = JSON.parse(parse.stdout) as { seen: number; bad: number }
    expect(parsed.seen).toBeGreaterThan(5)
    expect(parsed.bad).toBe(0)
    expect(await sql(targetDb, "SELECT option_value FROM wpi_options WHERE option_name = 'widget_text'")).toContain(target.previewHost)
    expect(await sql(targetDb, "SELECT TABLE_COLLATION FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'wpi_options'")).toBe('utf8mb4_unicode_ci')
  })

  it('rejects hostile archives with IMPORT_ARCHIVE_INVALID and writes nothing outside the staging directory', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pl-hostile-'))
    try {
      const names = JSON.parse(execFileSync('python3', [path.join(repoRoot, 'tests/support/hostile-archives.py'), dir], { encoding: 'utf8' })) as string[]
      for (const name of names) archives.set(`${name}.tar.gz`, fs.readFileSync(path.join(dir, `${name}.tar.gz`)))
    } finally {
      fs.rmSync(dir, { recursive: true, force: true })
    }
    // Small limits, so the "too many entries" and "too large unpacked" archives of the corpus are over them (the
    // control plane is reopened on the same data directory with the operator settings for them).
    await e2e.close()
    e2e = await openE2e({ PRESSLUFT_IMPORT_MAX_ENTRIES: '50', PRESSLUFT_IMPORT_MAX_UNPACKED_BYTES: String(2 * 1024 * 1024) })
    const target = await createSite(e2e, { slug: `pi-hostile-${RUN}`, name: 'PI Hostile Target' })
    const targetRoot = `/var/www/sites/${target.siteId}/production`
    const release = (await env(target.envId)).current_release_id
    // One archive of each kind of attack goes through the API to the node (path, link, special file, operator limit);
    // tests/unit/archive-validator.test.ts runs the same validator over the whole corpus of hostile-archives.py.
    for (const name of ['traversal', 'absolute', 'write-through-symlink', 'device', 'too-large']) {
      const job = await waitForJob(e2e.cp, await accepted(await e2e.cp.request('POST', `/api/sites/${target.siteId}/import`, { archive_url: `${archiveBase}/${name}.tar.gz` })))
      expect([name, job.status, job.error_code]).toEqual([name, 'failed', 'IMPORT_ARCHIVE_INVALID'])
      // A precondition failure: production is active again on the release it had.
      expect(await env(target.envId)).toMatchObject({ status: 'active', current_release_id: release })
    }
    const escaped = await node(['sh', '-c', `find / -xdev \\( -name 'pl-escaped*' -o -name 'pl-through.txt' \\) 2>/dev/null | head; ls ${targetRoot}/temp`])
    expect(escaped.stdout.split('\n').filter((l) => l.includes('pl-escaped') || l.includes('pl-through'))).toEqual([])
    expect((await httpGet(ip, target.previewHost, '/')).body).toContain('PI Hostile Target')
  })

  it('refuses archive URLs on loopback, private, link-local and metadata addresses at the API, and on the node its own address (even when allowed), a redirect to loopback and a name resolving outside the allow-list', async () => {
    const site = (await queryOne<{ id: string }>(e2e.cp.services.db, 'SELECT id FROM sites WHERE slug = ?', [`pi-hostile-${RUN}`]))!.id
    await allowSources(gateway)
    for (const url of ['http://127.0.0.1/a.tar.gz', 'http://10.1.2.3/a.tar.gz', 'http://192.168.0.1/a.tar.gz', 'http://169.254.169.254/latest/meta-data/',
      'http://[::1]/a.tar.gz', 'http://[fd00::1]/a.tar.gz', 'http://localhost/a.tar.gz', `http://${ip}/a.tar.gz`]) {
      const res = await e2e.cp.request('POST', `/api/sites/${site}/import`, { archive_url: url })
      expect([url, res.status]).toEqual([url, 400])
      expect(JSON.stringify(await res.json())).toContain('must not point at')
    }
    // Only the node can judge these. The node's own address is let through the API by the allow-list but stays refused
    // on the node; a name (s3.lab.test resolves to the lab gateway) is refused on the address it resolves to when the
    // allow-list does not hold it; an allowed lab URL that redirects to loopback is refused at the redirect.
    const productionId = (await queryOne<{ id: string }>(e2e.cp.services.db, "SELECT id FROM environments WHERE site_id = ? AND environment_type = 'production'", [site]))!.id
    // The reason is matched across whitespace: Ansible's YAML output wraps long messages.
    const words = (text: string) => new RegExp(text.split(' ').map((w) => w.replace(/[.()/]/g, '\\$&')).join('\\s+'))
    for (const [allow, url, reason] of [
      [ip, `http://${ip}/a.tar.gz`, words('is an address of this server')],
      [ip, `http://s3.lab.test:${archivePort}/good.tar.gz`, words(`${gateway} is in the refused range 198.18.0.0/15 (not in import_allowed_sources)`)],
      // 127.0.0.1 is on the node's loopback interface, so the own-address rule names it first.
      [gateway, `${archiveBase}/redirect-to-loopback.tar.gz`, /refusing 127\.0\.0\.1:\s+127\.0\.0\.1\s+is\s+(an\s+address\s+of\s+this\s+server|in\s+the\s+always\s+refused\s+range)/],
    ] as const) {
      await allowSources(allow)
      const jobId = await accepted(await e2e.cp.request('POST', `/api/sites/${site}/import`, { archive_url: url }))
      // IMPORT_DOWNLOAD_FAILED is retryable: the first attempt's outcome is enough, then the job is cancelled.
      let job = await (await e2e.cp.request('GET', `/api/jobs/${jobId}`)).json() as JobView
      for (let i = 0; i < 600 && !job.error_code; i++) {
        await new Promise((r) => setTimeout(r, 500))
        job = await (await e2e.cp.request('GET', `/api/jobs/${jobId}`)).json() as JobView
      }
      expect([url, job.error_code]).toEqual([url, 'IMPORT_DOWNLOAD_FAILED'])
      expect(job.error_message).toMatch(reason)
      if (job.status === 'queued') expect((await e2e.cp.request('POST', `/api/jobs/${jobId}/cancel`)).status).toBe(200)
      await e2e.cp.request('POST', `/api/sites/${site}/reset`)
      await e2e.cp.request('POST', `/api/environments/${productionId}/reset`)
    }
  })
})
