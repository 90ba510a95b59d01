import { describe, it, expect, beforeEach, afterEach } from 'vitest'
import { createTestControlPlane, type TestControlPlane } from '../support/control-plane.js'
import {
  insertActiveNode, jobById, jobsOfType, auditsFor, count, row, expectError, createActiveSite, createActiveStaging,
  expectNewestFirst, type SeededSite, startWithActiveSite } from '../support/seed.js'

interface DomainRow { id: string; environment_id: string; hostname: string; tls_status: string; tls_issuer: string }

describe('domains', () => {
  let cp: TestControlPlane
  let site: SeededSite
  beforeEach(async () => { ({ cp, site } = await startWithActiveSite()) })
  afterEach(async () => { await cp.close() })

  const add = (envId: string, hostname: string) => cp.request('POST', `/api/environments/${envId}/domains`, { hostname })
  const setStatus = (hostname: string, status: string) => cp.services.db.execute({ sql: 'UPDATE domains SET tls_status = ? WHERE hostname = ?', args: [status, hostname] })

  it('adds a pending domain with a domain_add job and an audit row on the domain', async () => {
    const res = await add(site.productionId, 'www.acme.example')
    expect(res.status).toBe(202)
    const job = await jobById(cp, (await res.json()).job_id)
    const domain = await row<DomainRow>(cp, 'SELECT * FROM domains')
    expect(domain).toMatchObject({ environment_id: site.productionId, hostname: 'www.acme.example', tls_status: 'pending', tls_issuer: 'letsencrypt' })
    expect(job).toMatchObject({ job_type: 'domain_add', environment_id: site.productionId, site_id: site.siteId, node_id: site.nodeId })
    expect(job.payload).toEqual({ domain_id: domain.id })
    const [audit] = await auditsFor(cp, 'domain_add')
    expect(audit).toMatchObject({ resource_type: 'domain', resource_id: domain.id, job_id: job.id, result: 'accepted' })
  })

  it('answers 409 domain_exists for an attached hostname, and retries a failed hostname of the same environment', async () => {
    const stagingId = await createActiveStaging(cp, site)
    await add(site.productionId, 'acme.example')
    await expectError(await add(site.productionId, 'acme.example'), 409, 'domain_exists')
    await expectError(await add(stagingId, 'acme.example'), 409, 'domain_exists')
    await setStatus('acme.example', 'active')
    await expectError(await add(site.productionId, 'acme.example'), 409, 'domain_exists')
    await setStatus('acme.example', 'failed')
    await expectError(await add(stagingId, 'acme.example'), 409, 'domain_exists')

    const retry = await add(site.productionId, 'acme.example')
    expect(retry.status).toBe(202)
    const domain = await row<DomainRow>(cp, 'SELECT * FROM domains')
    expect(domain.tls_status).toBe('pending')
    expect(await count(cp, 'domains')).toBe(1)
    const jobs = await jobsOfType(cp, 'domain_add')
    expect(jobs).toHaveLength(2)
    expect(jobs.map((j) => JSON.parse(j.payload_json).domain_id)).toEqual([domain.id, domain.id])
  })

  it('rejects hostnames that break the domain rules with 400', async () => {
    const settings = await cp.request('PATCH', '/_admin/settings', {
      preview_domain: 'preview.example.net', dns01_provider: 'route53', dns01_credentials_json: '{"aws_access_key_id":"a","aws_secret_access_key":"b"}',
      control_plane_domain: 'panel.example.net',
    })
    expect(settings.status).toBe(200)
    for (const hostname of ['UPPER.example.com', 'example', '10.0.0.1', 'trailing.example.com.', '-bad.example.com', 'a_b.example.com', 'x.sslip.io', 'app.localhost', 'shop.preview.example.net', 'panel.example.net', `${'a'.repeat(64)}.example.com`]) {
      const body = await expectError(await add(site.productionId, hostname), 400, 'bad_request')
      expect(body.details!.issues[0].path, hostname).toBe('hostname')
    }
    expect(await count(cp, 'domains')).toBe(0)
  })

  it('requires an active environment and node', async () => {
    await cp.services.db.execute({ sql: "UPDATE nodes SET status = 'unreachable'", args: [] })
    await expectError(await add(site.productionId, 'acme.example'), 409, 'node_not_active')
    await cp.services.db.execute({ sql: "UPDATE environments SET status = 'deploying'", args: [] })
    await expectError(await add(site.productionId, 'acme.example'), 409, 'environment_not_active')
    await expectError(await add(crypto.randomUUID(), 'acme.example'), 404, 'not_found')
  })

  it('lists domains page by page with is_primary derived from the environment', async () => {
    for (const host of ['a.acme.example', 'b.acme.example', 'c.acme.example']) expect((await add(site.productionId, host)).status).toBe(202)
    const primary = await row<DomainRow>(cp, "SELECT * FROM domains WHERE hostname = 'b.acme.example'")
    await cp.services.db.execute({ sql: 'UPDATE environments SET primary_domain_id = ? WHERE id = ?', args: [primary.id, site.productionId] })
    const first = await (await cp.request('GET', `/api/environments/${site.productionId}/domains?limit=2`)).json()
    const second = await (await cp.request('GET', `/api/environments/${site.productionId}/domains?limit=2&cursor=${first.next_cursor}`)).json()
    expect(second.next_cursor).toBeNull()
    const all = [...first.items, ...second.items]
    expect(all).toHaveLength(3)
    expectNewestFirst(all)
    expect(all.filter((d) => d.is_primary).map((d) => d.hostname)).toEqual(['b.acme.example'])
    expect(all[0]).toEqual({ id: expect.any(String), environment_id: site.productionId, hostname: expect.any(String), tls_status: 'pending', tls_issuer: 'letsencrypt', is_primary: expect.any(Boolean), created_at: expect.any(String), updated_at: expect.any(String) })
    await expectError(await cp.request('GET', `/api/environments/${site.productionId}/domains?cursor=zzz`), 400, 'bad_request')
  })

  it('DELETE disables the domain with a domain_remove job; repeats answer the open job and retry after a failure', async () => {
    await add(site.productionId, 'acme.example')
    const domain = await row<DomainRow>(cp, 'SELECT * FROM domains')
    await expectError(await cp.request('DELETE', `/api/domains/${domain.id}`), 409, 'conflict')
    await setStatus('acme.example', 'active')

    const res = await cp.request('DELETE', `/api/domains/${domain.id}`)
    expect(res.status).toBe(202)
    const { job_id: jobId } = await res.json()
    const job = await jobById(cp, jobId)
    expect(job).toMatchObject({ job_type: 'domain_remove', environment_id: site.productionId })
    expect(job.payload).toEqual({ domain_id: domain.id })
    expect((await row<DomainRow>(cp, 'SELECT * FROM domains')).tls_status).toBe('disabled')
    const [audit] = await auditsFor(cp, 'domain_remove')
    expect(audit).toMatchObject({ resource_type: 'domain', resource_id: domain.id, job_id: jobId, result: 'accepted' })

    expect((await (await cp.request('DELETE', `/api/domains/${domain.id}`)).json()).job_id).toBe(jobId)
    await cp.services.db.execute({ sql: "UPDATE jobs SET status = 'running' WHERE id = ?", args: [jobId] })
    expect((await (await cp.request('DELETE', `/api/domains/${domain.id}`)).json()).job_id).toBe(jobId)
    expect(await auditsFor(cp, 'domain_remove')).toHaveLength(1)

    await cp.services.db.execute({ sql: "UPDATE jobs SET status = 'failed' WHERE id = ?", args: [jobId] })
    const retry = await cp.request('DELETE', `/api/domains/${domain.id}`)
    expect(retry.status).toBe(202)
    expect((await retry.json()).job_id).not.toBe(jobId)
    expect(await jobsOfType(cp, 'domain_remove')).toHaveLength(2)
  })

  it('DELETE removes failed domains too, and answers 404, 400 and environment_not_active', async () => {
    await add(site.productionId, 'acme.example')
    await setStatus('acme.example', 'failed')
    const domain = await row<DomainRow>(cp, 'SELECT * FROM domains')
    await cp.services.db.execute({ sql: "UPDATE environments SET status = 'restoring'", args: [] })
    await expectError(await cp.request('DELETE', `/api/domains/${domain.id}`), 409, 'environment_not_active')
    expect((await row<DomainRow>(cp, 'SELECT * FROM domains')).tls_status).toBe('failed')
    await cp.services.db.execute({ sql: "UPDATE environments SET status = 'active'", args: [] })
    expect((await cp.request('DELETE', `/api/domains/${domain.id}`)).status).toBe(202)
    expect((await row<DomainRow>(cp, 'SELECT * FROM domains')).tls_status).toBe('disabled')
    await expectError(await cp.request('DELETE', `/api/domains/${crypto.randomUUID()}`), 404, 'not_found')
    await expectError(await cp.request('DELETE', '/api/domains/abc'), 400, 'bad_request')
  })
})
