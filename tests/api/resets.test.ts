import crypto from 'node:crypto'
import { describe, it, expect, beforeEach, afterEach } from 'vitest'
import { createTestControlPlane, type TestControlPlane } from '../support/control-plane.js'
import { insertActiveNode, createActiveSite, createActiveStaging, auditsFor, row, expectError, type SeededSite, startWithActiveSite } from '../support/seed.js'

interface StatusRow { status: string; state_version: number }

describe('POST /api/sites/{id}/reset', () => {
  let cp: TestControlPlane
  let site: SeededSite
  beforeEach(async () => { ({ cp, site } = await startWithActiveSite()) })
  afterEach(async () => { await cp.close() })

  const sql = (statement: string, args: unknown[] = []) => cp.services.db.execute({ sql: statement, args: args as never })
  const reset = () => cp.request('POST', `/api/sites/${site.siteId}/reset`)

  it('returns a failed site to active, bumps state_version and audits site_reset; environments keep their status', async () => {
    const stagingId = await createActiveStaging(cp, site)
    await sql("UPDATE sites SET status = 'failed'")
    await sql("UPDATE environments SET status = 'failed' WHERE id = ?", [stagingId])
    const before = await row<StatusRow>(cp, 'SELECT status, state_version FROM sites')
    const res = await reset()
    expect(res.status).toBe(200)
    expect(await res.json()).toEqual({ success: true, status: 'active' })
    expect(await row<StatusRow>(cp, 'SELECT status, state_version FROM sites')).toEqual({ status: 'active', state_version: before.state_version + 1 })
    expect((await row<StatusRow>(cp, 'SELECT status FROM environments WHERE id = ?', [stagingId])).status).toBe('failed')
    const [audit] = await auditsFor(cp, 'site_reset')
    expect(audit).toMatchObject({ resource_type: 'site', resource_id: site.siteId, result: 'succeeded' })
  })

  it('answers 409 resource_not_failed for a site that is not failed, and 404/400 for bad ids', async () => {
    const body = await expectError(await reset(), 409, 'resource_not_failed')
    expect(body.details).toEqual({ status: 'active' })
    await expectError(await cp.request('POST', `/api/sites/${crypto.randomUUID()}/reset`), 404, 'not_found')
    await expectError(await cp.request('POST', '/api/sites/1/reset'), 400, 'bad_request')
  })

  it('answers 409 reset_validation_failed naming the failed check', async () => {
    await sql("UPDATE sites SET status = 'failed'")
    await sql("INSERT INTO jobs (id, job_type, status, site_id, environment_id, node_id, payload_json, created_at, updated_at) VALUES (?, 'cache_purge', 'queued', ?, ?, ?, '{}', ?, ?)",
      [crypto.randomUUID(), site.siteId, site.productionId, site.nodeId, new Date().toISOString(), new Date().toISOString()])
    expect((await expectError(await reset(), 409, 'reset_validation_failed')).details).toEqual({ reason: 'site_has_open_jobs' })
    await sql("UPDATE jobs SET status = 'cancelled'")

    await sql("UPDATE environments SET status = 'restoring'")
    expect((await expectError(await reset(), 409, 'reset_validation_failed')).details).toEqual({ reason: 'environment_in_progress' })
    await sql("UPDATE environments SET status = 'failed', current_release_id = NULL")
    expect((await expectError(await reset(), 409, 'reset_validation_failed')).details).toEqual({ reason: 'production_release_missing' })
    expect((await row<StatusRow>(cp, 'SELECT status FROM sites')).status).toBe('failed')
    expect(await auditsFor(cp, 'site_reset')).toHaveLength(0)
  })

  // runtime/store/db.ts serializes in-process writes; without it the loser got SQLITE_BUSY (500) instead of a 409.
  it('lets exactly one of two concurrent resets win', async () => {
    await sql("UPDATE sites SET status = 'failed'")
    const before = await row<StatusRow>(cp, 'SELECT status, state_version FROM sites')
    const results = await Promise.all([reset(), reset()])
    expect(results.map((r) => r.status).sort()).toEqual([200, 409])
    const loser = await results.find((r) => r.status === 409)!.json()
    expect(['resource_not_failed', 'state_version_conflict']).toContain(loser.code)
    expect((await row<StatusRow>(cp, 'SELECT state_version FROM sites')).state_version).toBe(before.state_version + 1)
    expect(await auditsFor(cp, 'site_reset')).toHaveLength(1)
  })
})

describe('POST /api/environments/{id}/reset', () => {
  let cp: TestControlPlane
  let site: SeededSite
  beforeEach(async () => { ({ cp, site } = await startWithActiveSite()) })
  afterEach(async () => { await cp.close() })

  const sql = (statement: string, args: unknown[] = []) => cp.services.db.execute({ sql: statement, args: args as never })
  const reset = (id = site.productionId) => cp.request('POST', `/api/environments/${id}/reset`)

  it('returns a failed environment to active and audits environment_reset; the site keeps its status', async () => {
    await sql("UPDATE environments SET status = 'failed'")
    await sql("UPDATE sites SET status = 'failed'")
    const before = await row<StatusRow>(cp, 'SELECT status, state_version FROM environments')
    const res = await reset()
    expect(res.status).toBe(200)
    expect(await res.json()).toEqual({ success: true, status: 'active' })
    expect(await row<StatusRow>(cp, 'SELECT status, state_version FROM environments')).toEqual({ status: 'active', state_version: before.state_version + 1 })
    expect((await row<StatusRow>(cp, 'SELECT status FROM sites')).status).toBe('failed')
    const [audit] = await auditsFor(cp, 'environment_reset')
    expect(audit).toMatchObject({ resource_type: 'environment', resource_id: site.productionId, result: 'succeeded' })
  })

  it('answers 409 resource_not_failed and reset_validation_failed with the failed check', async () => {
    const stagingId = await createActiveStaging(cp, site)
    await expectError(await reset(), 409, 'resource_not_failed')
    await sql("UPDATE environments SET status = 'failed' WHERE id = ?", [site.productionId])
    await sql("UPDATE nodes SET status = 'unreachable'")
    expect((await expectError(await reset(), 409, 'reset_validation_failed')).details).toEqual({ reason: 'node_not_active' })
    await sql("UPDATE nodes SET status = 'active'")

    const stagingRelease = (await row<{ current_release_id: string }>(cp, 'SELECT current_release_id FROM environments WHERE id = ?', [stagingId])).current_release_id
    await sql('UPDATE environments SET current_release_id = ? WHERE id = ?', [stagingRelease, site.productionId])
    expect((await expectError(await reset(), 409, 'reset_validation_failed')).details).toEqual({ reason: 'current_release_foreign' })
    await sql('UPDATE environments SET current_release_id = NULL WHERE id = ?', [site.productionId])
    expect((await expectError(await reset(), 409, 'reset_validation_failed')).details).toEqual({ reason: 'current_release_missing' })

    expect((await cp.request('POST', `/api/environments/${stagingId}/cache/purge`)).status).toBe(202)
    await sql("UPDATE environments SET status = 'failed' WHERE id = ?", [stagingId])
    expect((await expectError(await reset(stagingId), 409, 'reset_validation_failed')).details).toEqual({ reason: 'site_has_open_jobs' })
    await expectError(await reset(crypto.randomUUID()), 404, 'not_found')
    expect(await auditsFor(cp, 'environment_reset')).toHaveLength(0)
  })
})
