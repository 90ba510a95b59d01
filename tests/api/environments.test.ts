import nodeCrypto from 'node:crypto'
import { describe, it, expect, beforeEach, afterEach, vi } from 'vitest'
import { createTestControlPlane, type TestControlPlane } from '../support/control-plane.js'
import {
  insertActiveNode, jobById, jobsOfType, auditsFor, count, row, expectError, createActiveSite, createActiveStaging,
  configureBackupStorage, expectNewestFirst, type SeededSite, startWithActiveSite } from '../support/seed.js'

interface EnvRow { id: string; site_id: string; slug: string; status: string; node_id: string; environment_type: string; source_environment_id: string | null; promotion_preset: string; preview_url: string; fastcgi_cache_enabled: number; redis_cache_enabled: number }

const staging = (source: string, extra: Record<string, unknown> = {}) => ({ name: 'Staging', slug: 'staging', type: 'staging', source_environment_id: source, promotion_preset: 'commerce-protect', ...extra })

describe('POST /api/sites/{id}/environments', () => {
  let cp: TestControlPlane
  let site: SeededSite
  beforeEach(async () => {
    ({ cp, site } = await startWithActiveSite({ public_ip: '198.51.100.4' }))
  })
  afterEach(async () => { await cp.close() })

  it('creates a cloning environment on the site node with its own preview URL, the env_create job and the audit row', async () => {
    const res = await cp.request('POST', `/api/sites/${site.siteId}/environments`, staging(site.productionId))
    expect(res.status).toBe(202)
    const job = await jobById(cp, (await res.json()).job_id)
    const env = await row<EnvRow>(cp, "SELECT * FROM environments WHERE slug = 'staging'")
    expect(env).toMatchObject({ site_id: site.siteId, status: 'cloning', node_id: site.nodeId, environment_type: 'staging', source_environment_id: site.productionId, promotion_preset: 'commerce-protect' })
    expect(env.preview_url).toBe(`http://${env.id.slice(0, 8)}.198-51-100-4.sslip.io`)
    expect(env.id.slice(0, 8)).not.toBe(site.productionId.slice(0, 8))
    expect(job).toMatchObject({ job_type: 'env_create', site_id: site.siteId, environment_id: env.id, node_id: site.nodeId, status: 'queued' })
    expect(job.payload).toEqual({ source_environment_id: site.productionId })
    const [audit] = await auditsFor(cp, 'env_create')
    expect(audit).toMatchObject({ resource_type: 'environment', resource_id: env.id, result: 'accepted', job_id: job.id })
    // The site moves to cloning only when the job starts.
    expect((await row<{ status: string }>(cp, 'SELECT status FROM sites')).status).toBe('active')
  })

  it('draws a new environment id when its uuid8 is already used by another environment', async () => {
    const colliding = `${site.productionId.slice(0, 8)}-0000-4000-8000-000000000000` as ReturnType<typeof nodeCrypto.randomUUID>
    const spy = vi.spyOn(nodeCrypto, 'randomUUID').mockReturnValueOnce(colliding)
    try {
      expect((await cp.request('POST', `/api/sites/${site.siteId}/environments`, staging(site.productionId))).status).toBe(202)
      expect(spy.mock.results[0]?.value).toBe(colliding)
    } finally {
      spy.mockRestore()
    }
    const env = await row<EnvRow>(cp, "SELECT * FROM environments WHERE slug = 'staging'")
    expect(env.id).not.toBe(colliding)
    expect(env.id.slice(0, 8)).not.toBe(site.productionId.slice(0, 8))
    expect(env.preview_url.startsWith(`http://${env.id.slice(0, 8)}.`)).toBe(true)
  })

  it('answers 409 production_environment_exists, slug_taken, site_not_active, environment_not_active and node_not_active', async () => {
    await expectError(await cp.request('POST', `/api/sites/${site.siteId}/environments`, { name: 'P2', slug: 'prod2', type: 'production', promotion_preset: 'content-protect' }), 409, 'production_environment_exists')
    expect((await cp.request('POST', `/api/sites/${site.siteId}/environments`, staging(site.productionId))).status).toBe(202)
    await expectError(await cp.request('POST', `/api/sites/${site.siteId}/environments`, staging(site.productionId)), 409, 'slug_taken')

    const clone = staging(site.productionId, { slug: 'clone-a', type: 'clone' })
    await cp.services.db.execute({ sql: "UPDATE nodes SET status = 'unreachable'", args: [] })
    await expectError(await cp.request('POST', `/api/sites/${site.siteId}/environments`, clone), 409, 'node_not_active')
    await cp.services.db.execute({ sql: "UPDATE environments SET status = 'deploying' WHERE id = ?", args: [site.productionId] })
    const sourceBody = await expectError(await cp.request('POST', `/api/sites/${site.siteId}/environments`, clone), 409, 'environment_not_active')
    expect(sourceBody.details).toMatchObject({ environment_id: site.productionId, status: 'deploying' })
    await cp.services.db.execute({ sql: "UPDATE sites SET status = 'cloning'", args: [] })
    await expectError(await cp.request('POST', `/api/sites/${site.siteId}/environments`, clone), 409, 'site_not_active')
    expect(await count(cp, 'environments')).toBe(2)
    expect(await jobsOfType(cp, 'env_create')).toHaveLength(1)
  })

  it('answers 404 with details.field for an unknown source or a source of another site, and 404 for an unknown site', async () => {
    const other = await createActiveSite(cp, 'other')
    for (const source of [crypto.randomUUID(), other.productionId]) {
      const body = await expectError(await cp.request('POST', `/api/sites/${site.siteId}/environments`, staging(source)), 404, 'not_found')
      expect(body.details).toEqual({ field: 'source_environment_id' })
    }
    await expectError(await cp.request('POST', `/api/sites/${crypto.randomUUID()}/environments`, staging(site.productionId)), 404, 'not_found')
  })

  it('rejects the reserved slug, a staging/clone without source and unknown presets with 400', async () => {
    for (const body of [
      staging(site.productionId, { slug: 'production' }),
      staging(site.productionId, { source_environment_id: undefined }),
      staging(site.productionId, { source_environment_id: null, type: 'clone' }),
      staging(site.productionId, { promotion_preset: 'everything' }),
      staging(site.productionId, { type: 'preview' }),
      staging(site.productionId, { slug: 'UPPER' }),
    ]) {
      await expectError(await cp.request('POST', `/api/sites/${site.siteId}/environments`, body), 400, 'bad_request')
    }
  })
})

describe('GET environments', () => {
  let cp: TestControlPlane
  beforeEach(async () => { cp = await createTestControlPlane(); await cp.login(); await insertActiveNode(cp) })
  afterEach(async () => { await cp.close() })

  it('lists a site environments page by page and gets one by id with JSON booleans', async () => {
    const site = await createActiveSite(cp, 'shop')
    for (const slug of ['s1', 's2', 's3']) await createActiveStaging(cp, site, slug)
    await createActiveSite(cp, 'unrelated')
    const first = await (await cp.request('GET', `/api/sites/${site.siteId}/environments?limit=3`)).json()
    expect(first.items).toHaveLength(3)
    expect(first.next_cursor).toEqual(expect.any(String))
    const second = await (await cp.request('GET', `/api/sites/${site.siteId}/environments?limit=3&cursor=${first.next_cursor}`)).json()
    expect(second).toEqual({ items: [expect.any(Object)], next_cursor: null })
    const all = [...first.items, ...second.items]
    expect(all.map((e: { slug: string }) => e.slug).sort()).toEqual(['production', 's1', 's2', 's3'])
    expectNewestFirst(all)

    const env = await (await cp.request('GET', `/api/environments/${site.productionId}`)).json()
    expect(env).toMatchObject({ id: site.productionId, site_id: site.siteId, fastcgi_cache_enabled: true, redis_cache_enabled: true, drift_status: 'unknown', primary_domain_id: null })
    await expectError(await cp.request('GET', `/api/environments/${crypto.randomUUID()}`), 404, 'not_found')
    await expectError(await cp.request('GET', '/api/environments/nope'), 400, 'bad_request')
    await expectError(await cp.request('GET', `/api/sites/${crypto.randomUUID()}/environments`), 404, 'not_found')
    await expectError(await cp.request('GET', `/api/sites/${site.siteId}/environments?cursor=abc`), 400, 'bad_request')
  })
})

describe('environment operations', () => {
  let cp: TestControlPlane
  let site: SeededSite
  let stagingId: string
  beforeEach(async () => {
    ({ cp, site } = await startWithActiveSite())
    stagingId = await createActiveStaging(cp, site)
  })
  afterEach(async () => { await cp.close() })

  it('drift-check enqueues drift_check once: a re-request answers the queued job', async () => {
    const first = await cp.request('POST', `/api/environments/${stagingId}/drift-check`)
    expect(first.status).toBe(202)
    const { job_id: jobId } = await first.json()
    const job = await jobById(cp, jobId)
    expect(job).toMatchObject({ job_type: 'drift_check', environment_id: stagingId, site_id: site.siteId })
    expect(job.payload).toEqual({ trigger: 'api' })
    const again = await cp.request('POST', `/api/environments/${stagingId}/drift-check`)
    expect(again.status).toBe(202)
    expect((await again.json()).job_id).toBe(jobId)
    expect(await jobsOfType(cp, 'drift_check')).toHaveLength(1)
    expect(await auditsFor(cp, 'drift_check')).toHaveLength(1)
    // A running check is not re-used: a new request queues the next one.
    await cp.services.db.execute({ sql: "UPDATE jobs SET status = 'running' WHERE id = ?", args: [jobId] })
    const next = await (await cp.request('POST', `/api/environments/${stagingId}/drift-check`)).json()
    expect(next.job_id).not.toBe(jobId)
  })

  it('drift-check answers 409 drift_check_not_applicable for production and environment_not_active for a busy env', async () => {
    await expectError(await cp.request('POST', `/api/environments/${site.productionId}/drift-check`), 409, 'drift_check_not_applicable')
    await cp.services.db.execute({ sql: "UPDATE environments SET status = 'failed' WHERE id = ?", args: [stagingId] })
    await expectError(await cp.request('POST', `/api/environments/${stagingId}/drift-check`), 409, 'environment_not_active')
    await expectError(await cp.request('POST', `/api/environments/${crypto.randomUUID()}/drift-check`), 404, 'not_found')
  })

  it('deploy enqueues env_deploy with the requested source', async () => {
    for (const body of [
      { source_type: 'git', source_ref: 'https://github.com/acme/site.git#main' },
      { source_type: 'git', source_ref: 'git@github.com:acme/site.git#release/1.2' },
      { source_type: 'upload', source_ref: 'https://artifacts.example.com/build-7.tar.gz' },
    ]) {
      const res = await cp.request('POST', `/api/environments/${stagingId}/deploy`, body)
      expect(res.status).toBe(202)
      const job = await jobById(cp, (await res.json()).job_id)
      expect(job).toMatchObject({ job_type: 'env_deploy', environment_id: stagingId, node_id: site.nodeId })
      expect(job.payload).toEqual(body)
    }
    expect(await auditsFor(cp, 'env_deploy')).toHaveLength(3)
  })

  it('deploy rejects malformed refs with 400 and s3:// artifacts outside the backup bucket', async () => {
    for (const body of [
      { source_type: 'git', source_ref: 'https://github.com/acme/site.git' },
      { source_type: 'git', source_ref: 'https://github.com/acme/site.git#-rf' },
      { source_type: 'git', source_ref: 'https://github.com/acme/site.git#a..b' },
      { source_type: 'git', source_ref: 'https://user:pw@github.com/acme/site.git#main' },
      { source_type: 'upload', source_ref: 'https://artifacts.example.com/build.zip' },
      { source_type: 'upload', source_ref: 'ftp://artifacts.example.com/build.tar.gz' },
      { source_type: 'svn', source_ref: 'x' },
    ]) {
      await expectError(await cp.request('POST', `/api/environments/${stagingId}/deploy`, body), 400, 'bad_request')
    }
    const s3 = { source_type: 'upload', source_ref: 's3://other-bucket/builds/7.tar.gz' }
    await expectError(await cp.request('POST', `/api/environments/${stagingId}/deploy`, s3), 409, 'backup_storage_not_configured')
    await configureBackupStorage(cp)
    const wrongBucket = await expectError(await cp.request('POST', `/api/environments/${stagingId}/deploy`, s3), 400, 'bad_request')
    expect(wrongBucket.details!.issues[0].path).toBe('source_ref')
    const ok = await cp.request('POST', `/api/environments/${stagingId}/deploy`, { source_type: 'upload', source_ref: 's3://pressluft-backups/builds/7.tar.gz' })
    expect(ok.status).toBe(202)
  })

  it('deploy refuses git repositories and artifact URLs on loopback, link-local, metadata and (unless allowed) private addresses, like an import', async () => {
    for (const ref of ['https://127.0.0.1/site.git#main', 'git@localhost:acme/site.git#main', 'ssh://git@169.254.169.254/site.git#main', 'https://10.0.0.8/site.git#main']) {
      const refused = await expectError(await cp.request('POST', `/api/environments/${stagingId}/deploy`, { source_type: 'git', source_ref: ref }), 400, 'bad_request')
      expect([ref, refused.details!.issues[0].path, refused.details!.issues[0].message]).toEqual([ref, 'source_ref', expect.stringMatching(/^must not point at this host's or internal services: /)])
    }
    for (const ref of ['http://[::1]/build.tar.gz', 'https://192.168.1.20/build.tar.gz', 'https://metadata.internal/build.tar.gz']) {
      await expectError(await cp.request('POST', `/api/environments/${stagingId}/deploy`, { source_type: 'upload', source_ref: ref }), 400, 'bad_request')
    }
    expect(await jobsOfType(cp, 'env_deploy')).toHaveLength(0)
    // The operator's allow-list opens a private range, never loopback.
    expect((await cp.request('PATCH', '/_admin/settings', { import_allowed_sources: '10.0.0.0/24' })).status).toBe(200)
    expect((await cp.request('POST', `/api/environments/${stagingId}/deploy`, { source_type: 'git', source_ref: 'https://10.0.0.8/site.git#main' })).status).toBe(202)
    await expectError(await cp.request('POST', `/api/environments/${stagingId}/deploy`, { source_type: 'git', source_ref: 'https://127.0.0.1/site.git#main' }), 400, 'bad_request')
  })

  it('deploy answers 409 site_not_active when the site is failed, and environment_not_active / node_not_active', async () => {
    const body = { source_type: 'git', source_ref: 'https://github.com/acme/site.git#main' }
    await cp.services.db.execute({ sql: "UPDATE nodes SET status = 'unreachable'", args: [] })
    await expectError(await cp.request('POST', `/api/environments/${stagingId}/deploy`, body), 409, 'node_not_active')
    await cp.services.db.execute({ sql: "UPDATE sites SET status = 'failed'", args: [] })
    await expectError(await cp.request('POST', `/api/environments/${stagingId}/deploy`, body), 409, 'site_not_active')
    await cp.services.db.execute({ sql: "UPDATE environments SET status = 'restoring' WHERE id = ?", args: [stagingId] })
    await expectError(await cp.request('POST', `/api/environments/${stagingId}/deploy`, body), 409, 'environment_not_active')
    expect(await jobsOfType(cp, 'env_deploy')).toHaveLength(0)
  })

  it('PATCH cache enqueues env_cache_toggle with only the requested flags and leaves the flags until the job succeeds', async () => {
    const res = await cp.request('PATCH', `/api/environments/${stagingId}/cache`, { redis_cache_enabled: false })
    expect(res.status).toBe(202)
    const job = await jobById(cp, (await res.json()).job_id)
    expect(job).toMatchObject({ job_type: 'env_cache_toggle', environment_id: stagingId })
    expect(job.payload).toEqual({ redis_cache_enabled: false })
    expect(await row<EnvRow>(cp, 'SELECT * FROM environments WHERE id = ?', [stagingId])).toMatchObject({ fastcgi_cache_enabled: 1, redis_cache_enabled: 1 })
    expect(await auditsFor(cp, 'env_cache_toggle')).toHaveLength(1)
    for (const body of [{}, { fastcgi_cache_enabled: 'no' }, { fastcgi_cache_enabled: true, other: 1 }]) {
      await expectError(await cp.request('PATCH', `/api/environments/${stagingId}/cache`, body), 400, 'bad_request')
    }
  })

  it('cache/purge enqueues cache_purge once while it is queued', async () => {
    const first = await (await cp.request('POST', `/api/environments/${site.productionId}/cache/purge`)).json()
    const second = await cp.request('POST', `/api/environments/${site.productionId}/cache/purge`)
    expect(second.status).toBe(202)
    expect((await second.json()).job_id).toBe(first.job_id)
    const [job] = await jobsOfType(cp, 'cache_purge')
    expect(job).toMatchObject({ id: first.job_id, environment_id: site.productionId, payload_json: '{}' })
    expect(await auditsFor(cp, 'cache_purge')).toHaveLength(1)
    await cp.services.db.execute({ sql: "UPDATE environments SET status = 'deploying' WHERE id = ?", args: [stagingId] })
    await expectError(await cp.request('POST', `/api/environments/${stagingId}/cache/purge`), 409, 'environment_not_active')
  })
})
