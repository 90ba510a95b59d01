// GET /api/environments/{id}/releases and POST /api/environments/{id}/rollback: the operator's view of releases and rollback.
import crypto from 'node:crypto'
import { describe, it, expect, beforeEach, afterEach } from 'vitest'
import type { TestControlPlane } from '../support/control-plane.js'
import { auditsFor, count, createActiveSite, expectError, jobById, row, startWithActiveSite, type SeededSite } from '../support/seed.js'

let stamp = Date.parse('2026-06-01T00:00:00.000Z')

/** A release row of the environment as a deploy would leave it; newer with every call. */
async function insertRelease(cp: TestControlPlane, envId: string, health: 'unknown' | 'healthy' | 'unhealthy', ref: string): Promise<string> {
  const id = crypto.randomUUID()
  stamp += 60_000
  await cp.services.db.execute({
    sql: `INSERT INTO releases (id, environment_id, source_type, source_ref, path, health_status, created_at) VALUES (?, ?, 'git', ?, ?, ?, ?)`,
    args: [id, envId, ref, `/var/www/sites/x/production/releases/${stamp}`, health, new Date(stamp).toISOString()],
  })
  return id
}

async function makeCurrent(cp: TestControlPlane, envId: string, releaseId: string): Promise<void> {
  await cp.services.db.execute({ sql: 'UPDATE environments SET current_release_id = ? WHERE id = ?', args: [releaseId, envId] })
}

describe('releases and operator rollback', () => {
  let cp: TestControlPlane
  let site: SeededSite
  let first: string
  let v1: string
  let v2: string
  let v3: string

  beforeEach(async () => {
    ({ cp, site } = await startWithActiveSite())
    first = (await row<{ current_release_id: string }>(cp, 'SELECT current_release_id FROM environments WHERE id = ?', [site.productionId])).current_release_id
    v1 = await insertRelease(cp, site.productionId, 'healthy', 'https://git.example.com/site.git#v1')
    v2 = await insertRelease(cp, site.productionId, 'healthy', 'https://git.example.com/site.git#v2')
    v3 = await insertRelease(cp, site.productionId, 'unhealthy', 'https://git.example.com/site.git#v3')
    // v3 failed its health check and was rolled back: v2 is current again.
    await makeCurrent(cp, site.productionId, v2)
  })
  afterEach(async () => { await cp.close() })

  it('lists the releases newest first with their health and which one is current', async () => {
    const res = await cp.request('GET', `/api/environments/${site.productionId}/releases`)
    expect(res.status).toBe(200)
    const body = await res.json()
    expect(body.items.map((r: { id: string }) => r.id)).toEqual([v3, v2, v1, first])
    expect(body.items.map((r: { health_status: string }) => r.health_status)).toEqual(['unhealthy', 'healthy', 'healthy', 'unknown'])
    expect(body.items.map((r: { is_current: boolean }) => r.is_current)).toEqual([false, true, false, false])
    expect(body.items[0]).toEqual({
      id: v3, environment_id: site.productionId, source_type: 'git', source_ref: 'https://git.example.com/site.git#v3',
      health_status: 'unhealthy', is_current: false, created_at: expect.any(String),
    })
    expect(body.next_cursor).toBeNull()
  })

  it('pages through releases with limit and next_cursor', async () => {
    const page1 = await (await cp.request('GET', `/api/environments/${site.productionId}/releases?limit=3`)).json()
    expect(page1.items.map((r: { id: string }) => r.id)).toEqual([v3, v2, v1])
    expect(page1.next_cursor).toEqual(expect.any(String))
    const page2 = await (await cp.request('GET', `/api/environments/${site.productionId}/releases?limit=3&cursor=${page1.next_cursor}`)).json()
    expect(page2.items.map((r: { id: string }) => r.id)).toEqual([first])
    expect(page2.next_cursor).toBeNull()
  })

  it('answers 404 for an unknown environment and 400 for a malformed id or cursor', async () => {
    await expectError(await cp.request('GET', `/api/environments/${crypto.randomUUID()}/releases`), 404, 'not_found')
    await expectError(await cp.request('GET', '/api/environments/not-a-uuid/releases'), 400, 'bad_request')
    await expectError(await cp.request('GET', `/api/environments/${site.productionId}/releases?cursor=garbage!`), 400, 'bad_request')
  })

  it('accepts a rollback to an earlier healthy release: 202, a release_rollback job without DB restore, an audit row', async () => {
    const res = await cp.request('POST', `/api/environments/${site.productionId}/rollback`, { release_id: v1 })
    expect(res.status).toBe(202)
    const job = await jobById(cp, (await res.json()).job_id)
    expect(job).toMatchObject({ job_type: 'release_rollback', status: 'queued', environment_id: site.productionId, site_id: site.siteId, node_id: site.nodeId })
    expect(job.payload).toEqual({ failed_release_id: null, to_release_id: v1, restore_db_backup_id: null })
    const [audit] = await auditsFor(cp, 'release_rollback')
    expect(audit).toMatchObject({ resource_type: 'environment', resource_id: site.productionId, job_id: job.id, result: 'accepted' })
    expect(audit.details).toEqual({ from_release_id: v2, to_release_id: v1 })
  })

  it('refuses a rollback to a release that failed its health check with 409 release_not_rollback_target', async () => {
    const body = await expectError(await cp.request('POST', `/api/environments/${site.productionId}/rollback`, { release_id: v3 }), 409, 'release_not_rollback_target')
    expect(body.details).toMatchObject({ reason: 'release_unhealthy', release_id: v3 })
    expect(await count(cp, 'jobs', "job_type = 'release_rollback'")).toBe(0)
  })

  it("refuses another environment's release and the current release with 409, and an unknown release with 404", async () => {
    const other = await createActiveSite(cp, 'other')
    const foreign = await insertRelease(cp, other.productionId, 'healthy', 'https://git.example.com/other.git#v1')
    const foreignBody = await expectError(await cp.request('POST', `/api/environments/${site.productionId}/rollback`, { release_id: foreign }), 409, 'release_not_rollback_target')
    expect(foreignBody.details).toMatchObject({ reason: 'foreign_release' })
    const currentBody = await expectError(await cp.request('POST', `/api/environments/${site.productionId}/rollback`, { release_id: v2 }), 409, 'release_not_rollback_target')
    expect(currentBody.details).toMatchObject({ reason: 'release_current' })
    await expectError(await cp.request('POST', `/api/environments/${site.productionId}/rollback`, { release_id: crypto.randomUUID() }), 404, 'not_found')
    expect(await count(cp, 'jobs', "job_type = 'release_rollback'")).toBe(0)
  })

  it('refuses a rollback while the environment is busy (409 environment_not_active) and validates the body (400)', async () => {
    await cp.services.db.execute({ sql: "UPDATE environments SET status = 'deploying' WHERE id = ?", args: [site.productionId] })
    await expectError(await cp.request('POST', `/api/environments/${site.productionId}/rollback`, { release_id: v1 }), 409, 'environment_not_active')
    await expectError(await cp.request('POST', `/api/environments/${site.productionId}/rollback`, {}), 400, 'bad_request')
    await expectError(await cp.request('POST', `/api/environments/${site.productionId}/rollback`, { release_id: 'v1' }), 400, 'bad_request')
    await expectError(await cp.request('POST', `/api/environments/${site.productionId}/rollback`, { release_id: v1, extra: 1 }), 400, 'bad_request')
    expect(await count(cp, 'jobs', "job_type = 'release_rollback'")).toBe(0)
  })

  it('requires a session for both endpoints (401)', async () => {
    await cp.request('POST', '/api/logout')
    await expectError(await cp.request('GET', `/api/environments/${site.productionId}/releases`), 401, 'unauthorized')
    await expectError(await cp.request('POST', `/api/environments/${site.productionId}/rollback`, { release_id: v1 }), 401, 'unauthorized')
  })
})
