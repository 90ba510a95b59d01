// End to end through the HTTP API on lab nodes: custom domains with certificates from the lab's ACME server (pebble),
// redirects between domains, primary reassignment on removal, renewal, and the wildcard preview certificate over
// DNS-01 (certbot's rfc2136 plugin against the lab's bind9).
import crypto from 'node:crypto'
import fs from 'node:fs'
import http from 'node:http'
import https from 'node:https'
import path from 'node:path'
import type { TLSSocket } from 'node:tls'
import { Resolver } from 'node:dns/promises'
import { describe, it, expect, beforeAll, afterAll } from 'vitest'
import { labDnsSet, labExec, labFiles } from '../lab/lab.js'
import { openE2e, createSite, type CreatedSite, type E2e } from '../support/e2e.js'
import { waitForJob, lastRecap } from '../support/jobs.js'
import { rememberSecret } from '../support/log-audit.js'
import { queryAll, queryOne, run } from '../../runtime/store/db.js'

interface Answer { status: number; body: string; headers: http.IncomingHttpHeaders; issuer?: string; serial?: string }

function httpGet(ip: string, host: string, urlPath = '/'): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: ip, port: 80, path: urlPath, headers: { host }, timeout: 20_000 }, (res) => {
      let body = ''
      res.on('data', (d) => { body += d })
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, headers: res.headers }))
    })
    req.on('error', reject)
    req.on('timeout', () => req.destroy(new Error('timeout')))
    req.end()
  })
}

/** HTTPS to the node's address with SNI and Host = host; the chain must verify against `ca` (pebble's root) and name host. */
function httpsGet(ip: string, host: string, ca: string, urlPath = '/'): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = https.request({
      host: ip, port: 443, path: urlPath, servername: host, headers: { host }, ca, timeout: 20_000, agent: false,
      checkServerIdentity: (_name, cert) => (cert.subjectaltname?.split(', ').some((n) => n === `DNS:${host}` || (n.startsWith('DNS:*.') && host.endsWith(n.slice(5)) && !host.slice(0, -n.slice(5).length).includes('.')))
        ? undefined : new Error(`certificate names ${cert.subjectaltname} do not cover ${host}`)),
    }, (res) => {
      const cert = (res.socket as TLSSocket).getPeerCertificate()
      let body = ''
      res.on('data', (d) => { body += d })
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, headers: res.headers, issuer: String(cert.issuer?.CN ?? ""), serial: cert.serialNumber }))
    })
    req.on('error', reject)
    req.on('timeout', () => req.destroy(new Error('timeout')))
    req.end()
  })
}

function fetchText(url: string, ca: string): Promise<string> {
  return new Promise((resolve, reject) => {
    https.get(url, { ca, timeout: 10_000 }, (res) => {
      let body = ''
      res.on('data', (d) => { body += d })
      res.on('end', () => (res.statusCode === 200 ? resolve(body) : reject(new Error(`${url} answered ${res.statusCode}`))))
    }).on('error', reject)
  })
}

describe('custom domains with certificates from the lab ACME server, redirects, removal, renewal and wildcard previews', () => {
  let e2e: E2e
  let LAB: { instance: string }
  let site: CreatedSite
  let pebbleRoot: string
  let pebbleLog: string
  const primary = 'shop.node1.lab.test'
  const secondary = 'www-shop.node1.lab.test'
  const domainIds: Record<string, string> = {}
  const timings: Record<string, number> = {}
  let previewDomainSet = false

  const pebbleMentions = (name: string) => fs.readFileSync(pebbleLog, 'utf8').split('\n').filter((line) => line.includes(name)).length

  async function envRow() {
    return (await (await e2e.cp.request('GET', `/api/environments/${site.envId}`)).json()) as { primary_domain_id: string | null; preview_url: string }
  }

  async function homeOption(): Promise<string> {
    const root = `/var/www/sites/${site.siteId}/production/current`
    const user = `wp_${site.envId.slice(0, 8)}`
    const res = await labExec('node1', ['runuser', '-u', user, '--', 'php', '/usr/local/lib/pressluft/pl-wp.php', `--root=${root}`, 'option-get', '--name=home'], LAB)
    return (JSON.parse(res.stdout) as { value: string }).value
  }

  async function addDomain(hostname: string) {
    const res = await e2e.cp.request('POST', `/api/environments/${site.envId}/domains`, { hostname })
    expect(res.status, await res.clone().text()).toBe(202)
    const { job_id: jobId } = await res.json() as { job_id: string }
    const domains = (await (await e2e.cp.request('GET', `/api/environments/${site.envId}/domains`)).json()) as { items: { id: string; hostname: string }[] }
    domainIds[hostname] = domains.items.find((d) => d.hostname === hostname)!.id
    return jobId
  }

  beforeAll(async () => {
    e2e = await openE2e()
    LAB = { instance: e2e.instance }
    pebbleLog = path.join(labFiles(LAB).logs, 'pebble.log')
    // pebble makes a new root on every start; its management port serves it (over TLS from the lab CA).
    pebbleRoot = await fetchText(e2e.lab.acme.directory_url.replace(':14000/dir', ':15000/roots/0'), fs.readFileSync(e2e.lab.acme.ca_cert, 'utf8'))
    site = await createSite(e2e, { slug: 'domains', name: 'Domain Lab Shop' })
  })

  afterAll(async () => {
    console.log(`domains e2e timings (s): ${JSON.stringify(timings)}`)
    // Settings are shared by every e2e file of the run: later files must get sslip.io previews again.
    if (previewDomainSet) await e2e.cp.request('PATCH', '/_admin/settings', { preview_domain: null, dns01_provider: null, dns01_credentials_json: null })
    await e2e?.close()
  })

  it('adds a domain whose DNS points to the node: HTTPS with a certificate from pebble, http redirects to https, WordPress home is the domain', async () => {
    const started = Date.now()
    const jobId = await addDomain(primary)
    const job = await waitForJob(e2e.cp, jobId)
    expect(job.error_message ?? '').toBe('')
    expect(job.status).toBe('succeeded')
    const page = await httpsGet(e2e.node.ip, primary, pebbleRoot)
    timings.domain_add_202_to_https = (Date.now() - started) / 1000
    expect(page.status).toBe(200)
    expect(page.body).toContain('Domain Lab Shop')
    expect(page.issuer).toMatch(/Pebble Intermediate/i)
    expect(page.headers['x-content-type-options']).toBe('nosniff')

    const plain = await httpGet(e2e.node.ip, primary, '/some/page?x=1')
    expect(plain.status).toBe(301)
    expect(plain.headers.location).toBe(`https://${primary}/some/page?x=1`)

    const domains = (await (await e2e.cp.request('GET', `/api/environments/${site.envId}/domains`)).json()) as { items: { hostname: string; tls_status: string }[] }
    expect(domains.items).toEqual([expect.objectContaining({ hostname: primary, tls_status: 'active' })])
    expect((await envRow()).primary_domain_id).toBe(domainIds[primary])
    expect(await homeOption()).toBe(`https://${primary}`)
    expect(page.body).toContain(`https://${primary}/`)
    expect(page.body).not.toContain(site.previewHost)
    // The issuance really went through the lab CA.
    expect(pebbleMentions(primary)).toBeGreaterThan(0)
  })

  it('runs domain_add again for the same domain with changed=0 (a copy of the job, as a retry would run it)', async () => {
    const original = await queryOne<Record<string, unknown>>(e2e.cp.services.db, `SELECT * FROM jobs WHERE job_type = 'domain_add' AND payload_json LIKE ?`, [`%${domainIds[primary]}%`])
    expect(original).toBeDefined()
    const columns = (await queryAll<{ name: string }>(e2e.cp.services.db, 'PRAGMA table_info(jobs)')).map((c) => c.name)
    const now = new Date().toISOString()
    const copy: Record<string, unknown> = {
      ...original, id: crypto.randomUUID(), status: 'queued', attempt_count: 0, run_after: null, locked_at: null, locked_by: null,
      started_at: null, finished_at: null, error_code: null, error_message: null, created_at: now, updated_at: now,
    }
    await run(e2e.cp.services.db, `INSERT INTO jobs (${columns.join(', ')}) VALUES (${columns.map(() => '?').join(', ')})`, columns.map((c) => copy[c] ?? null))
    const job = await waitForJob(e2e.cp, copy.id as string)
    expect(job.status).toBe('succeeded')
    expect(lastRecap(e2e.cp, copy.id as string)).toMatchObject({ changed: 0, failed: 0 })
  })

  it('a second domain answers 301 to https://<primary><uri> over HTTPS and HTTP', async () => {
    const jobId = await addDomain(secondary)
    const job = await waitForJob(e2e.cp, jobId)
    expect(job.error_message ?? '').toBe('')
    expect(job.status).toBe('succeeded')
    const secure = await httpsGet(e2e.node.ip, secondary, pebbleRoot, '/shop/?add-to-cart=12')
    expect(secure.status).toBe(301)
    expect(secure.headers.location).toBe(`https://${primary}/shop/?add-to-cart=12`)
    const plain = await httpGet(e2e.node.ip, secondary, '/about/')
    expect(plain.status).toBe(301)
    expect(plain.headers.location).toBe(`https://${primary}/about/`)
    // The primary is unchanged.
    expect((await envRow()).primary_domain_id).toBe(domainIds[primary])
    expect((await httpsGet(e2e.node.ip, primary, pebbleRoot)).status).toBe(200)
  })

  it('fails with DNS_MISMATCH when the A record points elsewhere, before any request to the CA', async () => {
    const hostname = 'elsewhere.dyn.lab.test'
    await labDnsSet([{ name: hostname, type: 'A', values: [e2e.lab.dns] }], LAB)
    const job = await waitForJob(e2e.cp, await addDomain(hostname))
    expect(job.status).toBe('failed')
    expect(job.error_code).toBe('DNS_MISMATCH')
    // Ansible's YAML output folds long messages over lines.
    expect(job.error_message?.replace(/\s+/g, ' ')).toContain(`DNS for ${hostname} does not point to this server (${e2e.node.ip}); add an A record and retry`)
    expect(pebbleMentions(hostname)).toBe(0)
    const domains = (await (await e2e.cp.request('GET', `/api/environments/${site.envId}/domains`)).json()) as { items: { hostname: string; tls_status: string }[] }
    expect(domains.items.find((d) => d.hostname === hostname)?.tls_status).toBe('failed')
  })

  it('fails with DNS_MISMATCH naming a stale AAAA record although the A record is right, before any request to the CA', async () => {
    const hostname = 'stale-aaaa.dyn.lab.test'
    await labDnsSet([
      { name: hostname, type: 'A', values: [e2e.node.ip] },
      { name: hostname, type: 'AAAA', values: ['2001:db8::dead'] },
    ], LAB)
    const job = await waitForJob(e2e.cp, await addDomain(hostname))
    expect(job.status).toBe('failed')
    expect(job.error_code).toBe('DNS_MISMATCH')
    expect(job.error_message?.replace(/\s+/g, ' ')).toContain(`DNS for ${hostname} has an AAAA record (2001:db8::dead) that does not point to this server`)
    expect(pebbleMentions(hostname)).toBe(0)
    // Nothing was written for it on the node.
    const conf = await labExec('node1', ['sh', '-c', `ls /etc/nginx/sites-available | grep -c -- '--${hostname}.conf' || true`], LAB)
    expect(conf.stdout.trim()).toBe('0')
  })

  it('fails with DNS_MISMATCH when a second A record points elsewhere (the CA could validate against it)', async () => {
    const hostname = 'two-a.dyn.lab.test'
    await labDnsSet([{ name: hostname, type: 'A', values: [e2e.node.ip, e2e.lab.dns] }], LAB)
    const job = await waitForJob(e2e.cp, await addDomain(hostname))
    expect(job.status).toBe('failed')
    expect(job.error_code).toBe('DNS_MISMATCH')
    expect(job.error_message?.replace(/\s+/g, ' ')).toContain(`DNS for ${hostname} also has an A record (${e2e.lab.dns}) that does not point to this server (${e2e.node.ip}); remove it and retry`)
    expect(pebbleMentions(hostname)).toBe(0)
  })

  it('renews: certbot renew --dry-run succeeds against pebble, and a forced renewal is served after the deploy hook reloads nginx', async () => {
    // Scheduled renewals get the lab CA from the certbot.service drop-in; lab nodes have no systemd, so pass it here.
    const env = { REQUESTS_CA_BUNDLE: '/etc/pressluft/acme-ca.pem' }
    const dry = await labExec('node1', ['certbot', 'renew', '--dry-run', '--no-random-sleep-on-renew'], { ...LAB, env, reject: false })
    expect(dry.exitCode, dry.stdout + dry.stderr).toBe(0)
    expect(dry.stdout + dry.stderr).toContain('all simulated renewals succeeded')
    const before = await httpsGet(e2e.node.ip, primary, pebbleRoot)
    const forced = await labExec('node1', ['certbot', 'renew', '--force-renewal', '--cert-name', primary, '--no-random-sleep-on-renew'], { ...LAB, env, reject: false })
    expect(forced.exitCode, forced.stdout + forced.stderr).toBe(0)
    // certbot runs every hook of renewal-hooks/deploy/ — on nodes only Pressluft's, which tests and reloads nginx.
    expect(forced.stdout + forced.stderr).toContain("Hook 'deploy-hook' ran with output:\n Reloading nginx configuration")
    // nginx reloads gracefully; the new certificate is served once the new workers took over.
    let after = await httpsGet(e2e.node.ip, primary, pebbleRoot)
    for (let i = 0; i < 20 && after.serial === before.serial; i++) {
      await new Promise((r) => setTimeout(r, 250))
      after = await httpsGet(e2e.node.ip, primary, pebbleRoot)
    }
    expect(after.status).toBe(200)
    expect(after.serial).not.toBe(before.serial)
  })

  it('removing the primary makes the other domain primary (URLs rewritten to it); removing the last brings back the preview URL', async () => {
    const first = await e2e.cp.request('DELETE', `/api/domains/${domainIds[primary]}`)
    expect(first.status).toBe(202)
    const job = await waitForJob(e2e.cp, (await first.json() as { job_id: string }).job_id)
    expect(job.error_message ?? '').toBe('')
    expect(job.status).toBe('succeeded')
    expect((await envRow()).primary_domain_id).toBe(domainIds[secondary])
    expect(await homeOption()).toBe(`https://${secondary}`)
    const page = await httpsGet(e2e.node.ip, secondary, pebbleRoot)
    expect(page.status).toBe(200)
    expect(page.body).toContain('Domain Lab Shop')
    expect(page.body).toContain(`https://${secondary}/`)
    expect(page.body).not.toContain(`https://${primary}/`)
    // The removed domain has neither a server block nor a certificate any more (unknown names get no TLS handshake).
    await expect(httpsGet(e2e.node.ip, primary, pebbleRoot)).rejects.toThrow()
    const leftovers = await labExec('node1', ['sh', '-c', `ls -d /etc/letsencrypt/live/${primary} /etc/nginx/sites-enabled/*--${primary}.conf 2>/dev/null | wc -l`], LAB)
    expect(leftovers.stdout.trim()).toBe('0')

    const last = await e2e.cp.request('DELETE', `/api/domains/${domainIds[secondary]}`)
    expect(last.status).toBe(202)
    const lastJob = await waitForJob(e2e.cp, (await last.json() as { job_id: string }).job_id)
    expect(lastJob.error_message ?? '').toBe('')
    expect(lastJob.status).toBe('succeeded')
    expect((await envRow()).primary_domain_id).toBeNull()
    expect(await homeOption()).toBe(site.previewUrl)
    const preview = await httpGet(e2e.node.ip, site.previewHost)
    expect(preview.status).toBe(200)
    expect(preview.body).toContain('Domain Lab Shop')
    expect(preview.body).toContain(`${site.previewUrl}/`)
    expect(preview.body).not.toContain(secondary)
    const domains = (await (await e2e.cp.request('GET', `/api/environments/${site.envId}/domains`)).json()) as { items: { hostname: string }[] }
    expect(domains.items.map((d) => d.hostname)).not.toContain(secondary)
  })

  // Re-provisioning node1 (the run's node) with preview_domain set is what an operator does after setting it
  // (api.md: certificates for preview_domain are issued by re-provisioning); no fresh node is needed.
  it('provisions with preview_domain (rfc2136 against the lab bind9): a new environment answers on https://<uuid8>.<preview_domain> with the wildcard certificate', async () => {
    const dns = e2e.lab.dns_update
    rememberSecret(dns.secret)
    const settings = await e2e.cp.request('PATCH', '/_admin/settings', {
      preview_domain: 'preview.lab.test', dns01_provider: 'rfc2136',
      dns01_credentials_json: JSON.stringify({
        dns_rfc2136_server: dns.server, dns_rfc2136_port: String(dns.port), dns_rfc2136_name: dns.key_name,
        dns_rfc2136_algorithm: dns.algorithm.toUpperCase(), dns_rfc2136_secret: dns.secret,
      }),
    })
    expect(settings.status, await settings.clone().text()).toBe(200)
    previewDomainSet = true

    const started = Date.now()
    const res = await e2e.cp.request('POST', '/api/nodes', { name: 'node1', hostname: e2e.node.ip, public_ip: e2e.node.ip })
    expect(res.status).toBe(202)
    const provision = await waitForJob(e2e.cp, (await res.json() as { job_id: string }).job_id, 900_000)
    timings.reprovision_with_wildcard = (Date.now() - started) / 1000
    expect(provision.error_message ?? '').toBe('')
    expect(provision.status).toBe('succeeded')
    const names = await labExec('node1', ['openssl', 'x509', '-noout', '-ext', 'subjectAltName', '-in', '/etc/letsencrypt/live/pressluft-preview/fullchain.pem'], LAB)
    expect(names.stdout).toContain('DNS:*.preview.lab.test')

    const wild = await createSite(e2e, { slug: 'wildcard', name: 'Wildcard Preview Site' })
    expect(wild.previewUrl).toBe(`https://${wild.envId.slice(0, 8)}.preview.lab.test`)
    // The preview name's DNS record is the operator's job (spec); here it goes into the lab's preview zone.
    await labDnsSet([{ name: wild.previewHost, type: 'A', values: [e2e.node.ip] }], LAB)
    const resolver = new Resolver()
    resolver.setServers([e2e.lab.dns])
    expect(await resolver.resolve4(wild.previewHost)).toEqual([e2e.node.ip])
    const page = await httpsGet(e2e.node.ip, wild.previewHost, pebbleRoot)
    expect(page.status).toBe(200)
    expect(page.body).toContain('Wildcard Preview Site')
    expect(page.issuer).toMatch(/Pebble Intermediate/i)
    const plain = await httpGet(e2e.node.ip, wild.previewHost, '/x')
    expect(plain.status).toBe(301)
    expect(plain.headers.location).toBe(`https://${wild.previewHost}/x`)
  })
})
