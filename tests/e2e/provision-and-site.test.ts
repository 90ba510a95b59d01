// End to end through the HTTP API on lab nodes: register + provision a node, create sites and a staging clone.
import http from 'node:http'
import { Resolver } from 'node:dns/promises'
import { describe, it, expect, beforeAll, afterAll } from 'vitest'
import { labExec, type LabStatus } from '../lab/lab.js'
import type { TestControlPlane } from '../support/control-plane.js'
import { openE2e, type E2e } from '../support/e2e.js'
import { waitForJob, lastRecap } from '../support/jobs.js'
import { rememberSecret } from '../support/log-audit.js'
import { queryOne } from '../../runtime/store/db.js'

const timings: Record<string, number> = {}

function httpGet(ip: string, host: string, urlPath = '/', extraHeaders: Record<string, string> = {}): Promise<{ status: number; body: string; headers: http.IncomingHttpHeaders }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: ip, port: 80, path: urlPath, headers: { host, ...extraHeaders }, timeout: 20_000 }, (res) => {
      let body = ''
      res.on('data', (d) => { body += d })
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, headers: res.headers }))
    })
    req.on('error', reject)
    req.on('timeout', () => req.destroy(new Error('timeout')))
    req.end()
  })
}

async function timed<T>(name: string, fn: () => Promise<T>): Promise<T> {
  const start = Date.now()
  try { return await fn() } finally { timings[name] = (Date.now() - start) / 1000 }
}

describe('provision a node and create live WordPress sites through the API', () => {
  let e2e: E2e
  let lab: LabStatus
  let cp: TestControlPlane
  let nodeId: string
  let LAB: { instance: string }
  const sites: { id: string; envId: string; previewUrl: string; name: string }[] = []

  beforeAll(async () => {
    e2e = await openE2e()
    ;({ lab, cp, nodeId } = e2e)
    LAB = { instance: e2e.instance }
  })

  afterAll(async () => {
    console.log(`e2e timings (s): ${JSON.stringify(timings)}`)
    await e2e?.close()
  })

  // The run's global setup provisioned node1 from a bare Debian 12 through POST /api/nodes (tests/support/e2e-global-setup.ts).
  it('provisions a registered node: node_provision succeeds and the node becomes active with its public IP', async () => {
    const node = lab.nodes[0]
    const job = await (await cp.request('GET', `/api/jobs/${e2e.provisionJobId}`)).json()
    expect(job).toMatchObject({ job_type: 'node_provision', status: 'succeeded', node_id: nodeId })
    const registered = await (await cp.request('GET', `/api/nodes/${nodeId}`)).json()
    expect(registered).toMatchObject({ name: 'node1', status: 'active', public_ip: node.ip, is_local: false })
    // apache2 must never be installed next to nginx.
    const apache = await labExec('node1', ['dpkg-query', '-W', '-f=${Status}', 'apache2'], { ...LAB, reject: false })
    expect(apache.stdout).not.toContain('install ok installed')
  })

  it('re-provisioning the same node is idempotent: the second run reports changed=0', async () => {
    const node = lab.nodes[0]
    const res = await cp.request('POST', '/api/nodes', { name: 'node1', hostname: node.ip, public_ip: node.ip })
    expect(res.status).toBe(202)
    const { job_id } = await res.json()
    const job = await timed('node_provision_second', () => waitForJob(cp, job_id))
    expect(job.status).toBe('succeeded')
    expect(lastRecap(cp, job_id)).toMatchObject({ changed: 0, failed: 0 })
  })

  it('creates a site whose preview URL serves the WordPress front page with the site name', async () => {
    const started = Date.now()
    const res = await cp.request('POST', '/api/sites', { name: 'Acme Lab Blog', slug: 'acme', node_id: nodeId })
    expect(res.status).toBe(202)
    const { job_id } = await res.json()
    const job = await waitForJob(cp, job_id)
    expect(job.error_message ?? '').toBe('')
    expect(job.status).toBe('succeeded')
    const siteList = await (await cp.request('GET', '/api/sites?limit=200')).json()
    const site = siteList.items.find((s: { slug: string }) => s.slug === 'acme')
    expect(site.status).toBe('active')
    const envs = await (await cp.request('GET', `/api/sites/${site.id}/environments`)).json()
    expect(envs.items).toHaveLength(1)
    const env = envs.items[0]
    expect(env).toMatchObject({ environment_type: 'production', status: 'active' })
    expect(env.current_release_id).not.toBeNull()
    const release = await queryOne<{ environment_id: string; health_status: string }>(cp.services.db, 'SELECT * FROM releases WHERE id = ?', [env.current_release_id])
    expect(release).toMatchObject({ environment_id: env.id, health_status: 'healthy' })

    const previewHost = new URL(env.preview_url).hostname
    expect(previewHost).toBe(`${env.id.slice(0, 8)}.${lab.nodes[0].ip.replace(/\./g, '-')}.sslip.io`)
    const resolver = new Resolver()
    resolver.setServers([lab.dns])
    expect(await resolver.resolve4(previewHost)).toEqual([lab.nodes[0].ip])
    const page = await httpGet(lab.nodes[0].ip, previewHost)
    timings.site_create_to_live = (Date.now() - started) / 1000
    expect(page.status).toBe(200)
    expect(page.body).toContain('Acme Lab Blog')
    sites.push({ id: site.id, envId: env.id, previewUrl: env.preview_url, name: 'Acme Lab Blog' })
  })

  it('serves the site with security headers and the page cache, and the WAF blocks attacks but not normal WordPress traffic', async () => {
    const ip = lab.nodes[0].ip
    const host = new URL(sites[0].previewUrl).hostname
    const front = await httpGet(ip, host, '/')
    expect(front.headers['x-content-type-options']).toBe('nosniff')
    expect(front.headers['x-frame-options']).toBe('SAMEORIGIN')
    expect(front.headers['referrer-policy']).toBe('strict-origin-when-cross-origin')
    expect(front.headers['permissions-policy']).toContain('geolocation=()')
    expect(['MISS', 'HIT', 'EXPIRED', 'STALE', 'UPDATING']).toContain(front.headers['x-fastcgi-cache'])
    expect((await httpGet(ip, host, '/')).headers['x-fastcgi-cache']).toBe('HIT')
    expect((await httpGet(ip, host, '/wp-login.php')).headers['x-fastcgi-cache']).toBe('BYPASS')

    // Normal traffic: front end, login, admin, admin-ajax, REST API, WooCommerce-style cart and checkout URLs.
    for (const urlPath of ['/', '/?p=1', '/wp-login.php', '/wp-admin/', '/wp-admin/admin-ajax.php?action=heartbeat', '/wp-json/',
      '/?rest_route=/wp/v2/posts', '/cart/?add-to-cart=12', '/checkout/?wc-ajax=update_order_review', '/?s=hello+world']) {
      const res = await httpGet(ip, host, urlPath)
      expect(res.status, urlPath).not.toBe(403)
      expect(res.status, urlPath).toBeLessThan(500)
    }
    // Attacks from each rule category answer 403.
    for (const urlPath of ['/?id=1%20UNION%20SELECT%20user_pass%20FROM%20wp_users', '/?file=../../etc/passwd', '/?page=php://filter/resource=index',
      '/?q=%3Cscript%3Ealert(1)%3C/script%3E', '/.env', '/.git/config', '/wp-config.php.bak', '/backup.sql', '/phpinfo.php', '/vendor/phpunit/phpunit/src/Util/PHP/eval-stdin.php']) {
      expect((await httpGet(ip, host, urlPath)).status, urlPath).toBe(403)
    }
    expect((await httpGet(ip, host, '/', { 'user-agent': 'sqlmap/1.7' })).status).toBe(403)
    // Unknown hostnames get no answer from the default server (444 closes the connection).
    await expect(httpGet(ip, 'unknown.example.test', '/')).rejects.toThrow()
  })

  it('hands out a one-time admin login link through an SSH node query, which works once and then is refused', async () => {
    const res = await cp.request('POST', `/api/environments/${sites[0].envId}/magic-login`)
    expect(res.status).toBe(200)
    const { login_url, expires_at } = await res.json()
    const url = new URL(login_url)
    expect(`${url.protocol}//${url.host}`).toBe(sites[0].previewUrl)
    expect(url.pathname).toBe('/wp-login.php')
    expect(url.searchParams.get('pressluft_magic')).toMatch(/^[A-Za-z0-9_-]{43}$/)
    const ttl = Date.parse(expires_at) - Date.now()
    expect(ttl).toBeGreaterThan(0)
    expect(ttl).toBeLessThanOrEqual(61_000)
    rememberSecret(url.searchParams.get('pressluft_magic')!)

    const ip = lab.nodes[0].ip
    const first = await httpGet(ip, url.hostname, `${url.pathname}${url.search}`)
    expect(first.status).toBe(302)
    expect(first.headers.location).toContain('/wp-admin/')
    const cookies = ([] as string[]).concat(first.headers['set-cookie'] ?? [])
    expect(cookies.some((c) => c.startsWith('wordpress_logged_in_'))).toBe(true)
    // The session opens the dashboard.
    const cookieHeader = cookies.map((c) => c.split(';')[0]).join('; ')
    const dashboard = await httpGet(ip, url.hostname, '/wp-admin/', { cookie: cookieHeader })
    expect(dashboard.status).toBe(200)
    expect(dashboard.body).toContain('Dashboard')
    // Single use: the same link is refused the second time.
    const replay = await httpGet(ip, url.hostname, `${url.pathname}${url.search}`)
    expect(replay.status).toBe(403)

    const node = (await (await cp.request('GET', `/api/nodes/${nodeId}`)).json())
    expect(node.last_seen_at).not.toBeNull()
    const audit = await queryOne<{ result: string }>(cp.services.db, "SELECT result FROM audit_logs WHERE action = 'magic_login' ORDER BY created_at DESC LIMIT 1")
    expect(audit?.result).toBe('succeeded')
  })

  it('re-running site_create for an existing environment (at-least-once delivery) reports changed=0', async () => {
    const job = await queryOne<{ id: string }>(cp.services.db, "SELECT id FROM jobs WHERE job_type = 'site_create' AND site_id = ?", [sites[0].id])
    // Redeliver the finished job exactly as crash recovery would requeue it, then let the scheduler run it again.
    await cp.services.db.execute({ sql: "UPDATE jobs SET status = 'queued', finished_at = NULL, locked_at = NULL, locked_by = NULL, attempt_count = 0 WHERE id = ?", args: [job!.id] })
    await cp.services.db.execute({ sql: "UPDATE sites SET status = 'deploying' WHERE id = ?", args: [sites[0].id] })
    await cp.services.db.execute({ sql: "UPDATE environments SET status = 'deploying' WHERE id = ?", args: [sites[0].envId] })
    cp.services.jobControl.wake()
    const rerun = await waitForJob(cp, job!.id)
    expect(rerun.status).toBe('succeeded')
    expect(lastRecap(cp, job!.id)).toMatchObject({ changed: 0, failed: 0 })
  })

  it('clones production into a staging environment with its own URL and database', async () => {
    const res = await cp.request('POST', `/api/sites/${sites[0].id}/environments`, {
      name: 'Staging', slug: 'staging', type: 'staging', source_environment_id: sites[0].envId, promotion_preset: 'content-protect',
    })
    expect(res.status).toBe(202)
    const job = await timed('env_create', async () => waitForJob(cp, (await res.json()).job_id))
    expect(job.error_message ?? '').toBe('')
    expect(job.status).toBe('succeeded')
    const envs = await (await cp.request('GET', `/api/sites/${sites[0].id}/environments`)).json()
    const staging = envs.items.find((e: { slug: string }) => e.slug === 'staging')
    expect(staging).toMatchObject({ environment_type: 'staging', status: 'active', source_environment_id: sites[0].envId })
    expect(staging.preview_url).not.toBe(sites[0].previewUrl)
    const page = await httpGet(lab.nodes[0].ip, new URL(staging.preview_url).hostname)
    expect(page.status).toBe(200)
    expect(page.body).toContain('Acme Lab Blog')
    // The clone's pages point at its own URL, not production's.
    expect(page.body).toContain(new URL(staging.preview_url).hostname)
    expect(page.body).not.toContain(new URL(sites[0].previewUrl).hostname)
    const dbs = await labExec('node1', ['mariadb', '-N', '-e', 'SHOW DATABASES'], LAB)
    expect(dbs.stdout).toContain(`wp_${staging.id.slice(0, 8)}`)
    expect(dbs.stdout).toContain(`wp_${sites[0].envId.slice(0, 8)}`)
    const baseline = await queryOne<{ kind: string }>(cp.services.db, 'SELECT kind FROM drift_checks WHERE environment_id = ?', [staging.id])
    expect(baseline?.kind).toBe('baseline')
  })

  it('isolates a second site on the same node: it cannot read the first site\'s files or database', async () => {
    const res = await cp.request('POST', '/api/sites', { name: 'Second Shop', slug: 'second', node_id: nodeId })
    const job = await waitForJob(cp, (await res.json()).job_id)
    expect(job.status).toBe('succeeded')
    const envs = await (await cp.request('GET', `/api/sites/${(await (await cp.request('GET', '/api/sites?limit=200')).json()).items.find((s: { slug: string }) => s.slug === 'second').id}/environments`)).json()
    const second = envs.items[0]
    const first = sites[0]
    const secondUser = `wp_${second.id.slice(0, 8)}`
    const firstConfig = `/var/www/sites/${first.id}/production/shared/wp-config.php`
    const readFiles = await labExec('node1', ['runuser', '-u', secondUser, '--', 'cat', firstConfig], { ...LAB, reject: false })
    expect(readFiles.exitCode).not.toBe(0)
    const listDir = await labExec('node1', ['runuser', '-u', secondUser, '--', 'ls', `/var/www/sites/${first.id}/production`], { ...LAB, reject: false })
    expect(listDir.exitCode).not.toBe(0)
    const password = await cp.services.secrets.get(`env/${second.id}/db_password`)
    expect(password).toBeTruthy()
    rememberSecret(password!)
    const ownDb = await labExec('node1', ['mariadb', '-u', secondUser, `-p${password}`, `wp_${second.id.slice(0, 8)}`, '-N', '-e', 'SELECT 1'], { ...LAB, reject: false })
    expect(ownDb.exitCode).toBe(0)
    const otherDb = await labExec('node1', ['mariadb', '-u', secondUser, `-p${password}`, `wp_${first.envId.slice(0, 8)}`, '-N', '-e', 'SELECT 1'], { ...LAB, reject: false })
    expect(otherDb.exitCode).not.toBe(0)
    expect(otherDb.stderr).toMatch(/Access denied/i)
  })

  it('purges only the environment\'s caches, and toggles the page and object caches through jobs', async () => {
    const ip = lab.nodes[0].ip
    const envId = sites[0].envId
    const host = new URL(sites[0].previewUrl).hostname
    const redisKeys = async () => (await labExec('node1', ['redis-cli', '--scan'], LAB)).stdout.split('\n').filter(Boolean)
    const ownKeys = (keys: string[]) => keys.filter((k) => k.startsWith(`pressluft_${envId}:`))
    await httpGet(ip, host, '/')
    expect((await httpGet(ip, host, '/')).headers['x-fastcgi-cache']).toBe('HIT')
    const before = await redisKeys()
    expect(ownKeys(before).length).toBeGreaterThan(0)
    const othersBefore = before.filter((k) => !ownKeys([k]).length).sort()

    const purge = await cp.request('POST', `/api/environments/${envId}/cache/purge`)
    expect(purge.status).toBe(202)
    expect((await waitForJob(cp, (await purge.json()).job_id)).status).toBe('succeeded')
    const after = await redisKeys()
    expect(ownKeys(after)).toEqual([])
    expect(after.filter((k) => !ownKeys([k]).length).sort()).toEqual(othersBefore)
    expect((await httpGet(ip, host, '/')).headers['x-fastcgi-cache']).toBe('MISS')

    const dropIn = `/var/www/sites/${sites[0].id}/production/shared/object-cache.php`
    const off = await cp.request('PATCH', `/api/environments/${envId}/cache`, { fastcgi_cache_enabled: false, redis_cache_enabled: false })
    expect(off.status).toBe(202)
    expect((await waitForJob(cp, (await off.json()).job_id)).status).toBe('succeeded')
    expect(await (await cp.request('GET', `/api/environments/${envId}`)).json()).toMatchObject({ fastcgi_cache_enabled: false, redis_cache_enabled: false })
    const uncached = await httpGet(ip, host, '/')
    expect(uncached.status).toBe(200)
    expect(uncached.headers['x-fastcgi-cache']).toBeUndefined()
    expect((await labExec('node1', ['test', '-e', dropIn], { ...LAB, reject: false })).exitCode).not.toBe(0)

    const on = await cp.request('PATCH', `/api/environments/${envId}/cache`, { fastcgi_cache_enabled: true, redis_cache_enabled: true })
    expect((await waitForJob(cp, (await on.json()).job_id)).status).toBe('succeeded')
    expect(await (await cp.request('GET', `/api/environments/${envId}`)).json()).toMatchObject({ fastcgi_cache_enabled: true, redis_cache_enabled: true })
    expect((await httpGet(ip, host, '/')).headers['x-fastcgi-cache']).toBe('MISS')
    expect((await labExec('node1', ['test', '-e', dropIn], { ...LAB, reject: false })).exitCode).toBe(0)
  })
})
