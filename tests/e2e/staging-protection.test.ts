// Staging protection on the e2e lab node (docs/decisions.md "Staging protection"): production stays indexable,
// a staging clone sends X-Robots-Tag noindex (pages, cached pages, static files) and has blog_public = 0, and HTTP
// basic auth set through the API protects it while the node's own health check and a magic login keep working.
// One site and one staging clone for every assertion.
import http from 'node:http'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { labExec } from '../lab/lab.js'
import { createSite, openE2e, type CreatedSite, type E2e } from '../support/e2e.js'
import { waitForJob } from '../support/jobs.js'
import { rememberSecret } from '../support/log-audit.js'
import { acceptJob } from '../../runtime/jobs/accept-job.js'
import { inTransaction, queryOne } from '../../runtime/store/db.js'

interface Answer { status: number; headers: http.IncomingHttpHeaders; body: string }

/** GET from this host straight to the node's address with the environment's Host header (no DNS). */
function get(ip: string, host: string, urlPath: string, headers: Record<string, string> = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: ip, port: 80, path: urlPath, headers: { host, ...headers }, timeout: 20_000 }, (res) => {
      let body = ''
      res.on('data', (d) => { body += d })
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }))
    })
    req.on('error', reject)
    req.on('timeout', () => req.destroy(new Error('timeout')))
    req.end()
  })
}

const STATIC_FILE = '/wp-includes/css/dashicons.min.css'
const USERNAME = 'reviewer'
const PASSWORD = 'Staging-only pass 42'

describe('staging protection on a lab node', () => {
  let e2e: E2e
  let site: CreatedSite
  let ip = ''
  let staging = { id: '', host: '' }
  const started = Date.now()
  const timings: Record<string, number> = {}
  const basic = (user: string, pass: string) => ({ authorization: `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}` })

  /** blog_public as WordPress reads it, through the node's PHP helper run as the environment's user. */
  async function blogPublic(envId: string, slug: string): Promise<string> {
    const res = await labExec(e2e.node.name, ['runuser', '-u', `wp_${envId.slice(0, 8)}`, '--', 'php', '/usr/local/lib/pressluft/pl-wp.php',
      `--root=/var/www/sites/${site.siteId}/${slug}/current`, 'option-get', '--name=blog_public'], { instance: e2e.instance })
    return String((JSON.parse(res.stdout) as { value: unknown }).value)
  }

  async function setBasicAuth(body: Record<string, unknown>): Promise<void> {
    const t = Date.now()
    const res = await e2e.cp.request('PUT', `/api/environments/${staging.id}/basic-auth`, body)
    expect(res.status, await res.clone().text()).toBe(202)
    const job = await waitForJob(e2e.cp, (await res.json() as { job_id: string }).job_id)
    expect(job.job_type).toBe('env_protection')
    expect(job.status, `${job.error_code} ${job.error_message}`).toBe('succeeded')
    timings[`env_protection (enabled ${String(body.enabled)})`] = (Date.now() - t) / 1000
  }

  beforeAll(async () => {
    rememberSecret(PASSWORD)
    e2e = await openE2e()
    ip = e2e.node.ip
    const t = Date.now()
    site = await createSite(e2e, { slug: 'guarded', name: 'Guarded' })
    timings.site_create = (Date.now() - t) / 1000
  })

  afterAll(async () => {
    console.log(`staging-protection: ${((Date.now() - started) / 1000).toFixed(1)} s in all; ${JSON.stringify(timings)}`)
    await e2e?.close()
  })

  it('serves production without X-Robots-Tag and leaves its blog_public = 1', async () => {
    for (const urlPath of ['/', STATIC_FILE]) {
      const res = await get(ip, site.previewHost, urlPath)
      expect(res.status, urlPath).toBe(200)
      expect(res.headers['x-robots-tag'], urlPath).toBeUndefined()
    }
    expect(await blogPublic(site.envId, 'production')).toBe('1')
  })

  it('clones a staging environment that answers X-Robots-Tag noindex on pages, cached pages and static files, with blog_public = 0', async () => {
    const t = Date.now()
    const created = await e2e.cp.request('POST', `/api/sites/${site.siteId}/environments`, {
      name: 'Staging', slug: 'staging', type: 'staging', source_environment_id: site.envId, promotion_preset: 'content-protect',
    })
    expect(created.status).toBe(202)
    const job = await waitForJob(e2e.cp, (await created.json() as { job_id: string }).job_id, 900_000)
    expect(job.status, `${job.error_code} ${job.error_message}`).toBe('succeeded')
    timings.env_create = (Date.now() - t) / 1000
    const envs = await (await e2e.cp.request('GET', `/api/sites/${site.siteId}/environments`)).json() as { items: { id: string; slug: string; preview_url: string }[] }
    const env = envs.items.find((e) => e.slug === 'staging')!
    staging = { id: env.id, host: new URL(env.preview_url).hostname }

    const first = await get(ip, staging.host, '/')
    const second = await get(ip, staging.host, '/')
    expect([first.status, second.status]).toEqual([200, 200])
    // The second answer comes from the FastCGI page cache and still carries the header.
    expect(second.headers['x-fastcgi-cache']).toBe('HIT')
    for (const res of [first, second, await get(ip, staging.host, STATIC_FILE), await get(ip, staging.host, '/no-such-page/')]) {
      expect(res.headers['x-robots-tag']).toBe('noindex, nofollow')
    }
    // WordPress itself says so too (wp_robots), from blog_public = 0 set after the copy of production's database.
    expect(first.body).toContain("<meta name='robots' content='noindex, nofollow")
    expect(await blogPublic(staging.id, 'staging')).toBe('0')
    expect(await blogPublic(site.envId, 'production')).toBe('1')
  })

  it('puts staging behind basic auth: 401 without credentials, 200 with them, the node\'s health check and a magic login still work', async () => {
    await setBasicAuth({ enabled: true, username: USERNAME, password: PASSWORD })
    const view = await e2e.cp.request('GET', `/api/environments/${staging.id}`)
    const text = await view.text()
    expect(JSON.parse(text).basic_auth).toEqual({ enabled: true, username: USERNAME })
    expect(text).not.toContain(PASSWORD)
    expect(text).not.toContain('$6$')

    for (const urlPath of ['/', STATIC_FILE]) {
      const anonymous = await get(ip, staging.host, urlPath)
      expect(anonymous.status, urlPath).toBe(401)
      expect(anonymous.headers['www-authenticate'], urlPath).toMatch(/^Basic realm=/)
      expect(anonymous.headers['x-robots-tag'], urlPath).toBe('noindex, nofollow')
      const allowed = await get(ip, staging.host, urlPath, basic(USERNAME, PASSWORD))
      expect(allowed.status, urlPath).toBe(200)
      expect(allowed.headers['x-robots-tag'], urlPath).toBe('noindex, nofollow')
    }
    // One wrong password only: fail2ban's nginx-http-auth jail bans an address after 5 mismatches.
    expect((await get(ip, staging.host, '/', basic(USERNAME, 'not the password'))).status).toBe(401)
    // The ACME http-01 path is never behind the password (404: no challenge file), production is not protected.
    expect((await get(ip, staging.host, '/.well-known/acme-challenge/probe')).status).toBe(404)
    expect((await get(ip, site.previewHost, '/')).status).toBe(200)

    // The health check every deploy, update and restore ends with: the node asks over loopback, without credentials.
    const t = Date.now()
    const admin = await queryOne<{ id: string; email: string }>(e2e.cp.services.db, 'SELECT id, email FROM users LIMIT 1')
    const release = await queryOne<{ current_release_id: string }>(e2e.cp.services.db, 'SELECT current_release_id FROM environments WHERE id = ?', [staging.id])
    const healthJobId = await inTransaction(e2e.cp.services.db, (tx) => acceptJob(tx, { id: admin!.id, email: admin!.email, session_id: null }, 1, {
      job_type: 'health_check', site_id: site.siteId, environment_id: staging.id, node_id: e2e.nodeId,
      payload: { release_id: release!.current_release_id }, resource: { type: 'environment', id: staging.id },
    }))
    const health = await waitForJob(e2e.cp, healthJobId)
    expect(health.status, `${health.error_code} ${health.error_message}`).toBe('succeeded')
    timings.health_check = (Date.now() - t) / 1000

    // A magic login link opens wp-admin once the browser passed basic auth.
    const magic = await e2e.cp.request('POST', `/api/environments/${staging.id}/magic-login`)
    expect(magic.status).toBe(200)
    const loginUrl = new URL((await magic.json() as { login_url: string }).login_url)
    rememberSecret(loginUrl.searchParams.get('pressluft_magic')!)
    const login = await get(ip, staging.host, `${loginUrl.pathname}${loginUrl.search}`, basic(USERNAME, PASSWORD))
    expect(login.status).toBe(302)
    expect(login.headers.location).toContain('/wp-admin/')
    expect(([] as string[]).concat(login.headers['set-cookie'] ?? []).some((c) => c.startsWith('wordpress_logged_in_'))).toBe(true)
  })

  it('switches basic auth off again: staging answers 200 without credentials and still sends noindex', async () => {
    await setBasicAuth({ enabled: false })
    const view = await (await e2e.cp.request('GET', `/api/environments/${staging.id}`)).json() as { basic_auth: unknown }
    expect(view.basic_auth).toEqual({ enabled: false, username: USERNAME })
    for (const urlPath of ['/', STATIC_FILE]) {
      const res = await get(ip, staging.host, urlPath)
      expect(res.status, urlPath).toBe(200)
      expect(res.headers['x-robots-tag'], urlPath).toBe('noindex, nofollow')
    }
    // The htpasswd file is gone from the node once nginx no longer names it.
    const file = await labExec(e2e.node.name, ['test', '-e', `/etc/nginx/pressluft-auth/${staging.id.slice(0, 8)}.htpasswd`], { instance: e2e.instance, reject: false })
    expect(file.exitCode).toBe(1)
  })
})
