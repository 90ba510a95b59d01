import { describe, it, expect, beforeEach, afterEach } from 'vitest'
import { createTestControlPlane, type TestControlPlane } from '../support/control-plane.js'
import {
  insertActiveNode, jobById, jobsOfType, auditsFor, count, row, expectError, createActiveSite, configureBackupStorage,
  insertBackupRow, expectNewestFirst,
} from '../support/seed.js'

interface SiteRow { id: string; status: string; primary_environment_id: string; state_version: number }
interface EnvRow { id: string; site_id: string; slug: string; name: string; environment_type: string; status: string; node_id: string; promotion_preset: string; preview_url: string; source_environment_id: string | null }

describe('POST /api/sites', () => {
  let cp: TestControlPlane
  beforeEach(async () => { cp = await createTestControlPlane(); await cp.login() })
  afterEach(async () => { await cp.close() })

  it('creates the site and its production environment (both deploying), the site_create job and the accepted audit row', async () => {
    const nodeId = await insertActiveNode(cp, { public_ip: '203.0.113.7' })
    const res = await cp.request('POST', '/api/sites', { name: 'Acme Shop', slug: 'acme' })
    expect(res.status).toBe(202)
    const { job_id: jobId } = await res.json()

    const site = await row<SiteRow>(cp, 'SELECT * FROM sites WHERE slug = ?', ['acme'])
    expect(site.status).toBe('deploying')
    expect(site.state_version).toBe(1)
    const env = await row<EnvRow>(cp, 'SELECT * FROM environments WHERE id = ?', [site.primary_environment_id])
    expect(env).toMatchObject({ site_id: site.id, slug: 'production', name: 'Production', environment_type: 'production', status: 'deploying', node_id: nodeId, promotion_preset: 'content-protect', source_environment_id: null })
    expect(env.preview_url).toBe(`http://${env.id.slice(0, 8)}.203-0-113-7.sslip.io`)

    const job = await jobById(cp, jobId)
    expect(job).toMatchObject({ job_type: 'site_create', status: 'queued', site_id: site.id, environment_id: env.id, node_id: nodeId, max_attempts: 3 })
    expect(job.payload).toEqual({})
    const audits = await auditsFor(cp, 'site_create')
    expect(audits).toHaveLength(1)
    expect(audits[0]).toMatchObject({ resource_type: 'site', resource_id: site.id, result: 'accepted', job_id: jobId, user_id: job.requested_by })

    const api = await (await cp.request('GET', `/api/sites/${site.id}`)).json()
    expect(api).toEqual({ id: site.id, name: 'Acme Shop', slug: 'acme', status: 'deploying', primary_environment_id: env.id, created_at: expect.any(String), updated_at: expect.any(String), state_version: 1 })
  })

  it('uses https://<uuid8>.<preview_domain> as preview URL once a preview domain is set', async () => {
    await insertActiveNode(cp)
    const patch = await cp.request('PATCH', '/_admin/settings', { preview_domain: 'preview.example.com', dns01_provider: 'cloudflare', dns01_credentials_json: '{"dns_cloudflare_api_token":"t0ken"}' })
    expect(patch.status).toBe(200)
    await cp.request('POST', '/api/sites', { name: 'Beta', slug: 'beta' })
    const env = await row<EnvRow>(cp, "SELECT e.* FROM environments e JOIN sites s ON s.id = e.site_id WHERE s.slug = 'beta'")
    expect(env.preview_url).toBe(`https://${env.id.slice(0, 8)}.preview.example.com`)
  })

  it('places a site without node_id on the active node with the fewest environments, ties going to the oldest', async () => {
    const older = await insertActiveNode(cp, { name: 'older', created_at: '2026-01-01T00:00:00.000Z' })
    const newer = await insertActiveNode(cp, { name: 'newer', created_at: '2026-02-01T00:00:00.000Z' })
    await insertActiveNode(cp, { name: 'busy', status: 'provisioning', created_at: '2025-01-01T00:00:00.000Z' })
    const placed: string[] = []
    for (const slug of ['one', 'two', 'three']) {
      expect((await cp.request('POST', '/api/sites', { name: slug, slug })).status).toBe(202)
      placed.push((await row<EnvRow>(cp, "SELECT e.* FROM environments e JOIN sites s ON s.id = e.site_id WHERE s.slug = ?", [slug])).node_id)
    }
    expect(placed).toEqual([older, newer, older])
  })

  it('honours an explicit node_id', async () => {
    await insertActiveNode(cp, { name: 'first', created_at: '2026-01-01T00:00:00.000Z' })
    const chosen = await insertActiveNode(cp, { name: 'second' })
    expect((await cp.request('POST', '/api/sites', { name: 'x', slug: 'x', node_id: chosen })).status).toBe(202)
    expect((await row<EnvRow>(cp, 'SELECT * FROM environments')).node_id).toBe(chosen)
  })

  it('answers 409 no_active_node when no node is active, and writes nothing', async () => {
    await insertActiveNode(cp, { status: 'provisioning' })
    await expectError(await cp.request('POST', '/api/sites', { name: 'x', slug: 'x' }), 409, 'no_active_node')
    expect(await count(cp, 'sites')).toBe(0)
    expect(await count(cp, 'environments')).toBe(0)
    expect(await count(cp, 'jobs')).toBe(0)
    expect(await count(cp, 'audit_logs', "action = 'site_create'")).toBe(0)
  })

  it('answers 409 slug_taken for a used slug, 404 for an unknown node_id and 409 node_not_active for an inactive one', async () => {
    await insertActiveNode(cp)
    expect((await cp.request('POST', '/api/sites', { name: 'x', slug: 'taken' })).status).toBe(202)
    await expectError(await cp.request('POST', '/api/sites', { name: 'y', slug: 'taken' }), 409, 'slug_taken')
    const missing = await expectError(await cp.request('POST', '/api/sites', { name: 'y', slug: 'other', node_id: crypto.randomUUID() }), 404, 'not_found')
    expect(missing.details).toEqual({ field: 'node_id' })
    const unreachable = await insertActiveNode(cp, { status: 'unreachable' })
    const inactive = await expectError(await cp.request('POST', '/api/sites', { name: 'y', slug: 'other', node_id: unreachable }), 409, 'node_not_active')
    expect(inactive.details).toMatchObject({ node_id: unreachable, status: 'unreachable' })
    expect(await count(cp, 'sites')).toBe(1)
  })

  it('rejects invalid bodies with 400 and zod issues', async () => {
    for (const body of [
      { name: 'x', slug: 'Bad_Slug' },
      { name: 'x', slug: '-x' },
      { name: 'x', slug: 'a'.repeat(41) },
      { slug: 'x' },
      { name: '', slug: 'x' },
      { name: 'a'.repeat(101), slug: 'x' },
      { name: 'tab\there', slug: 'x' },
      { name: '{{ lookup("env") }}', slug: 'x' },
      { name: 'x', slug: 'x', node_id: 'not-a-uuid' },
      { name: 'x', slug: 'x', extra: true },
    ]) {
      const body400 = await expectError(await cp.request('POST', '/api/sites', body), 400, 'bad_request')
      expect(body400.details!.issues.length, JSON.stringify(body)).toBeGreaterThan(0)
      expect(body400.details!.issues[0]).toEqual({ path: expect.any(String), message: expect.any(String) })
    }
    expect(await count(cp, 'sites')).toBe(0)
  })
})

describe('GET /api/sites', () => {
  let cp: TestControlPlane
  beforeEach(async () => { cp = await createTestControlPlane(); await cp.login() })
  afterEach(async () => { await cp.close() })

  it('pages through every site exactly once, newest first, with an opaque cursor', async () => {
    await insertActiveNode(cp)
    for (let i = 0; i < 5; i++) expect((await cp.request('POST', '/api/sites', { name: `s${i}`, slug: `s${i}` })).status).toBe(202)
    const seen: { id: string; created_at: string }[] = []
    let cursor: string | null = null
    let pages = 0
    do {
      const res: Response = await cp.request('GET', `/api/sites?limit=2${cursor ? `&cursor=${cursor}` : ''}`)
      expect(res.status).toBe(200)
      const page = await res.json()
      expect(page.items.length).toBeLessThanOrEqual(2)
      seen.push(...page.items)
      cursor = page.next_cursor
      pages++
    } while (cursor)
    expect(pages).toBe(3)
    expect(new Set(seen.map((s) => s.id)).size).toBe(5)
    expectNewestFirst(seen)
  })

  it('returns an empty page with a null cursor, defaults to 50 items and rejects bad limits and cursors', async () => {
    expect(await (await cp.request('GET', '/api/sites')).json()).toEqual({ items: [], next_cursor: null })
    for (const query of ['limit=0', 'limit=201', 'limit=abc', 'cursor=%%%', 'cursor=bm90LWpzb24', `cursor=${Buffer.from('["yesterday","x"]').toString('base64url')}`]) {
      await expectError(await cp.request('GET', `/api/sites?${query}`), 400, 'bad_request')
    }
  })

  it('GET /api/sites/{id} answers 404 for an unknown id and 400 for a malformed one', async () => {
    await expectError(await cp.request('GET', `/api/sites/${crypto.randomUUID()}`), 404, 'not_found')
    await expectError(await cp.request('GET', '/api/sites/123'), 400, 'bad_request')
  })
})

describe('POST /api/sites/{id}/import', () => {
  let cp: TestControlPlane
  beforeEach(async () => { cp = await createTestControlPlane(); await cp.login() })
  afterEach(async () => { await cp.close() })

  const archive = { archive_url: 'https://example.com/exports/site.tar.gz' }

  it('enqueues a pre-import full backup and then site_import into the production environment', async () => {
    await insertActiveNode(cp)
    const site = await createActiveSite(cp, 'imp')
    await configureBackupStorage(cp)
    const res = await cp.request('POST', `/api/sites/${site.siteId}/import`, archive)
    expect(res.status).toBe(202)
    const job = await jobById(cp, (await res.json()).job_id)
    expect(job).toMatchObject({ job_type: 'site_import', site_id: site.siteId, environment_id: site.productionId, node_id: site.nodeId, status: 'queued' })
    const backup = await row<{ id: string; status: string; backup_scope: string; environment_id: string }>(cp, 'SELECT * FROM backups')
    expect(backup).toMatchObject({ status: 'pending', backup_scope: 'full', environment_id: site.productionId })
    expect(job.payload).toEqual({ archive_url: archive.archive_url, pre_backup_id: backup.id })
    const [backupJob] = await jobsOfType(cp, 'backup_create')
    expect(JSON.parse(backupJob.payload_json)).toEqual({ backup_id: backup.id, purpose: 'pre_import' })
    expect(backupJob).toMatchObject({ environment_id: site.productionId, site_id: site.siteId, requested_by: job.requested_by })
    expect(backupJob.created_at <= job.created_at).toBe(true)
    const [audit] = await auditsFor(cp, 'site_import')
    expect(audit).toMatchObject({ resource_type: 'site', resource_id: site.siteId, result: 'accepted', job_id: job.id })
    expect(audit.details).toMatchObject({ pre_backup_id: backup.id, pre_backup_job_id: backupJob.id })
  })

  it('reuses a full backup completed within the gate window instead of taking a new one', async () => {
    await insertActiveNode(cp)
    const site = await createActiveSite(cp, 'imp')
    await configureBackupStorage(cp)
    // Completed after the site's own jobs, as a backup taken of the live site is.
    const fresh = await insertBackupRow(cp, site.productionId, { completed_at: new Date().toISOString() })
    const res = await cp.request('POST', `/api/sites/${site.siteId}/import`, archive)
    const job = await jobById(cp, (await res.json()).job_id)
    expect(job.payload.pre_backup_id).toBe(fresh)
    expect(await count(cp, 'backups')).toBe(1)
    expect(await jobsOfType(cp, 'backup_create')).toHaveLength(0)
  })

  it('answers the state conflicts in order: site, environment, storage, node', async () => {
    await insertActiveNode(cp)
    const site = await createActiveSite(cp, 'imp')
    await expectError(await cp.request('POST', `/api/sites/${site.siteId}/import`, archive), 409, 'backup_storage_not_configured')
    await configureBackupStorage(cp)
    await cp.services.db.execute({ sql: "UPDATE nodes SET status = 'unreachable'", args: [] })
    await expectError(await cp.request('POST', `/api/sites/${site.siteId}/import`, archive), 409, 'node_not_active')
    await cp.services.db.execute({ sql: "UPDATE environments SET status = 'restoring'", args: [] })
    await expectError(await cp.request('POST', `/api/sites/${site.siteId}/import`, archive), 409, 'environment_not_active')
    await cp.services.db.execute({ sql: "UPDATE sites SET status = 'restoring'", args: [] })
    await expectError(await cp.request('POST', `/api/sites/${site.siteId}/import`, archive), 409, 'site_not_active')
    await expectError(await cp.request('POST', `/api/sites/${crypto.randomUUID()}/import`, archive), 404, 'not_found')
    expect(await count(cp, 'jobs', "job_type IN ('site_import', 'backup_create')")).toBe(0)
  })

  it('rejects archive URLs that are not plain http(s)', async () => {
    await insertActiveNode(cp)
    const site = await createActiveSite(cp, 'imp')
    for (const url of ['ftp://example.com/a.tar.gz', 'https://user:pw@example.com/a.tar.gz', 'https://example.com/a b.tar.gz', `https://example.com/${'a'.repeat(2048)}`, 'file:///etc/passwd', 'https://example.com/{{x}}']) {
      await expectError(await cp.request('POST', `/api/sites/${site.siteId}/import`, { archive_url: url }), 400, 'bad_request')
    }
  })

  it('refuses internal and reserved archive addresses with 400 unless import_allowed_sources allows them; loopback and metadata stay refused', async () => {
    await insertActiveNode(cp)
    const site = await createActiveSite(cp, 'imp')
    await configureBackupStorage(cp)
    const importing = (url: string) => cp.request('POST', `/api/sites/${site.siteId}/import`, { archive_url: url })
    const refused = async (url: string, reason: RegExp) => {
      const err = await expectError(await importing(url), 400, 'bad_request')
      expect([url, err.details!.issues]).toEqual([url, [{ path: 'archive_url', message: expect.stringMatching(reason) }]])
    }
    for (const url of ['http://198.18.0.1:8000/a.tar.gz', 'http://10.20.0.5/a.tar.gz', 'http://[fd12:3456::9]/a.tar.gz', 'http://archives.internal/a.tar.gz']) {
      await refused(url, /^must not point at this host's or internal services: .*(private, shared, reserved|local host name)/)
    }
    expect(await count(cp, 'jobs', "job_type IN ('site_import', 'backup_create')")).toBe(0)

    // The setting is read when the request is accepted: the same URLs pass once it names them.
    expect((await cp.request('PATCH', '/_admin/settings', { import_allowed_sources: '198.18.0.1,10.20.0.0/16,fd12:3456::/32,archives.internal,0.0.0.0/1' })).status).toBe(200)
    for (const url of ['http://198.18.0.1:8000/a.tar.gz', 'http://10.20.0.5/a.tar.gz', 'http://[fd12:3456::9]/a.tar.gz', 'http://archives.internal/a.tar.gz']) {
      const res = await importing(url)
      expect([url, res.status]).toEqual([url, 202])
      const job = await jobById(cp, (await res.json()).job_id)
      expect(job.payload.archive_url).toBe(url)
    }
    await refused('http://198.18.0.2:8000/a.tar.gz', /198\.18\.0\.2 is a private, shared, reserved or multicast address/)
    // 0.0.0.0/1 covers them, but loopback, link-local/metadata and localhost are never allowed.
    for (const url of ['http://127.0.0.1/a.tar.gz', 'http://169.254.169.254/latest/meta-data/', 'http://100.100.100.200/a.tar.gz', 'http://localhost/a.tar.gz']) {
      await refused(url, /loopback, link-local or metadata|local host name/)
    }

    // Cleared again: refused as before.
    expect((await cp.request('PATCH', '/_admin/settings', { import_allowed_sources: null })).status).toBe(200)
    await refused('http://198.18.0.1:8000/a.tar.gz', /198\.18\.0\.1 is a private, shared, reserved or multicast address/)
  })
})
