import { describe, it, expect, beforeEach, afterEach } from 'vitest'
import { createTestControlPlane, type TestControlPlane } from '../support/control-plane.js'
import {
  insertActiveNode, jobById, auditsFor, count, row, expectError, createActiveSite, configureBackupStorage, insertBackupRow,
  expectNewestFirst, type SeededSite, startWithActiveSite } from '../support/seed.js'

interface BackupRow { id: string; environment_id: string; backup_scope: string; status: string; storage_type: string; storage_path: string; retention_until: string; created_at: string; checksum: string | null; completed_at: string | null }

describe('backups', () => {
  let cp: TestControlPlane
  let site: SeededSite
  beforeEach(async () => { ({ cp, site } = await startWithActiveSite()) })
  afterEach(async () => { await cp.close() })

  it('creates a pending backup with its storage path and retention, a backup_create job and an audit row on the backup', async () => {
    await configureBackupStorage(cp)
    expect((await cp.request('PATCH', '/_admin/settings', { backup_retention_days: 7 })).status).toBe(200)
    const res = await cp.request('POST', `/api/environments/${site.productionId}/backups`, { backup_scope: 'db' })
    expect(res.status).toBe(202)
    const job = await jobById(cp, (await res.json()).job_id)
    const backup = await row<BackupRow>(cp, 'SELECT * FROM backups')
    expect(backup).toMatchObject({ environment_id: site.productionId, backup_scope: 'db', status: 'pending', storage_type: 's3', checksum: null, completed_at: null })
    expect(backup.storage_path).toBe(`s3://pressluft-backups/pressluft/${site.siteId}/${site.productionId}/${backup.id}/`)
    expect(Date.parse(backup.retention_until) - Date.parse(backup.created_at)).toBe(7 * 86400_000)
    expect(job).toMatchObject({ job_type: 'backup_create', environment_id: site.productionId, site_id: site.siteId, node_id: site.nodeId })
    expect(job.payload).toEqual({ backup_id: backup.id, purpose: 'manual' })
    const [audit] = await auditsFor(cp, 'backup_create')
    expect(audit).toMatchObject({ resource_type: 'backup', resource_id: backup.id, job_id: job.id, result: 'accepted' })
  })

  it('answers 409 backup_storage_not_configured until all four storage settings are set, and writes nothing', async () => {
    await expectError(await cp.request('POST', `/api/environments/${site.productionId}/backups`, { backup_scope: 'full' }), 409, 'backup_storage_not_configured')
    expect(await count(cp, 'backups')).toBe(0)
    expect(await count(cp, 'jobs', "job_type = 'backup_create'")).toBe(0)
  })

  it('requires an active environment and node, and validates the scope', async () => {
    await configureBackupStorage(cp)
    await expectError(await cp.request('POST', `/api/environments/${site.productionId}/backups`, { backup_scope: 'everything' }), 400, 'bad_request')
    await expectError(await cp.request('POST', `/api/environments/${site.productionId}/backups`, {}), 400, 'bad_request')
    await cp.services.db.execute({ sql: "UPDATE nodes SET status = 'unreachable'", args: [] })
    await expectError(await cp.request('POST', `/api/environments/${site.productionId}/backups`, { backup_scope: 'full' }), 409, 'node_not_active')
    await cp.services.db.execute({ sql: "UPDATE environments SET status = 'failed'", args: [] })
    await expectError(await cp.request('POST', `/api/environments/${site.productionId}/backups`, { backup_scope: 'full' }), 409, 'environment_not_active')
    await expectError(await cp.request('POST', `/api/environments/${crypto.randomUUID()}/backups`, { backup_scope: 'full' }), 404, 'not_found')
  })

  it('lists an environment backups newest first, page by page', async () => {
    for (let i = 0; i < 5; i++) await insertBackupRow(cp, site.productionId, { status: i % 2 ? 'completed' : 'failed' })
    const other = await createActiveSite(cp, 'other')
    await insertBackupRow(cp, other.productionId)
    const first = await (await cp.request('GET', `/api/environments/${site.productionId}/backups?limit=4`)).json()
    expect(first.items).toHaveLength(4)
    const second = await (await cp.request('GET', `/api/environments/${site.productionId}/backups?limit=4&cursor=${first.next_cursor}`)).json()
    expect(second.items).toHaveLength(1)
    expect(second.next_cursor).toBeNull()
    const all = [...first.items, ...second.items]
    expectNewestFirst(all)
    expect(all.every((b) => b.environment_id === site.productionId)).toBe(true)
    expect(Object.keys(all[0]).sort()).toEqual(['backup_scope', 'checksum', 'completed_at', 'created_at', 'environment_id', 'id', 'retention_until', 'size_bytes', 'status', 'storage_path', 'storage_type'])
    await expectError(await cp.request('GET', `/api/environments/${site.productionId}/backups?limit=500`), 400, 'bad_request')
    await expectError(await cp.request('GET', `/api/environments/${crypto.randomUUID()}/backups`), 404, 'not_found')
  })
})
