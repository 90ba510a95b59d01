import crypto from 'node:crypto'
import { describe, it, expect, beforeEach, afterEach } from 'vitest'
import { createTestControlPlane, type TestControlPlane } from '../support/control-plane.js'
import {
  insertActiveNode, jobById, jobsOfType, auditsFor, count, row, expectError, createActiveSite, createActiveStaging,
  configureBackupStorage, insertBackupRow, insertDriftCheck, type SeededSite, startWithActiveSite } from '../support/seed.js'

const minutesAgo = (minutes: number) => new Date(Date.now() - minutes * 60_000).toISOString()

describe('updates and restore with pre-operation backups', () => {
  let cp: TestControlPlane
  let site: SeededSite
  beforeEach(async () => {
    ({ cp, site } = await startWithActiveSite())
    await configureBackupStorage(cp)
  })
  afterEach(async () => { await cp.close() })

  it('updates inserts a pending full backup and its backup_create job before env_update, in one commit with the audit row', async () => {
    const res = await cp.request('POST', `/api/environments/${site.productionId}/updates`, { scope: 'plugins' })
    expect(res.status).toBe(202)
    const job = await jobById(cp, (await res.json()).job_id)
    const backup = await row<{ id: string; status: string; backup_scope: string; storage_path: string }>(cp, 'SELECT * FROM backups')
    expect(backup).toMatchObject({ status: 'pending', backup_scope: 'full', storage_path: `s3://pressluft-backups/pressluft/${site.siteId}/${site.productionId}/${backup.id}/` })
    expect(job).toMatchObject({ job_type: 'env_update', environment_id: site.productionId, status: 'queued' })
    expect(job.payload).toEqual({ scope: 'plugins', pre_backup_id: backup.id })
    const [backupJob] = await jobsOfType(cp, 'backup_create')
    expect(JSON.parse(backupJob.payload_json)).toEqual({ backup_id: backup.id, purpose: 'pre_update' })
    const audits = await auditsFor(cp, 'env_update')
    expect(audits).toHaveLength(1)
    expect(audits[0]).toMatchObject({ resource_type: 'environment', resource_id: site.productionId, job_id: job.id, result: 'accepted' })
    expect(audits[0].details).toEqual({ pre_backup_id: backup.id, pre_backup_job_id: backupJob.id })
    // The pre-operation backup has no acceptance row of its own.
    expect(await auditsFor(cp, 'backup_create')).toHaveLength(0)
  })

  it('reuses only a usable full backup completed within the gate window', async () => {
    await insertBackupRow(cp, site.productionId, { completed_at: minutesAgo(90) })
    await insertBackupRow(cp, site.productionId, { backup_scope: 'db', completed_at: minutesAgo(5) })
    await insertBackupRow(cp, site.productionId, { completed_at: minutesAgo(5), retention_until: minutesAgo(1) })
    await insertBackupRow(cp, site.productionId, { status: 'running' })
    const first = await jobById(cp, (await (await cp.request('POST', `/api/environments/${site.productionId}/updates`, { scope: 'all' })).json()).job_id)
    expect(await jobsOfType(cp, 'backup_create')).toHaveLength(1)
    // The first update never runs: cancelled while queued, it changed nothing, so a backup older than it is still current.
    expect((await cp.request('POST', `/api/jobs/${first.id}/cancel`)).status).toBe(200)
    const fresh = await insertBackupRow(cp, site.productionId, { completed_at: new Date().toISOString() })
    const second = await jobById(cp, (await (await cp.request('POST', `/api/environments/${site.productionId}/updates`, { scope: 'core' })).json()).job_id)
    expect(second.payload.pre_backup_id).toBe(fresh)
    expect(first.payload.pre_backup_id).not.toBe(fresh)
    expect(await jobsOfType(cp, 'backup_create')).toHaveLength(1)
    expect((await auditsFor(cp, 'env_update')).find((a) => a.job_id === second.id && a.result === 'accepted')!.details).toEqual({ pre_backup_id: fresh, pre_backup_job_id: null })
  })

  it('takes a new pre-update backup when another job of the environment ran after the fresh one, so a rollback never undoes that job', async () => {
    const backup = await insertBackupRow(cp, site.productionId, { completed_at: minutesAgo(30) })
    // A deploy that finished after the backup: restoring that backup would silently drop what it changed.
    await cp.services.db.execute({
      sql: `INSERT INTO jobs (id, job_type, status, site_id, environment_id, node_id, payload_json, attempt_count, max_attempts, started_at, finished_at, created_at, updated_at)
        SELECT ?, 'env_deploy', 'succeeded', site_id, id, node_id, '{}', 1, 3, ?, ?, ?, ? FROM environments WHERE id = ?`,
      args: [crypto.randomUUID(), minutesAgo(12), minutesAgo(10), minutesAgo(12), minutesAgo(10), site.productionId],
    })
    const update = await jobById(cp, (await (await cp.request('POST', `/api/environments/${site.productionId}/updates`, { scope: 'plugins' })).json()).job_id)
    expect(update.payload.pre_backup_id).not.toBe(backup)
    expect(await jobsOfType(cp, 'backup_create')).toHaveLength(1)
    // The update itself is now the newest job: a second update accepted right after it cannot reuse that backup either.
    const second = await jobById(cp, (await (await cp.request('POST', `/api/environments/${site.productionId}/updates`, { scope: 'core' })).json()).job_id)
    expect(second.status).toBe('queued')
    expect(await jobsOfType(cp, 'backup_create')).toHaveLength(2)
  })

  it('still reuses the fresh backup after a job of the environment failed with a code that promises an untouched node, but not after one that may have changed it', async () => {
    // The seeded site's own jobs finished just now: the backup comes after them, the failed jobs after the backup.
    const backup = await insertBackupRow(cp, site.productionId, { completed_at: new Date().toISOString() })
    const later = (ms: number) => new Date(Date.now() + ms).toISOString()
    const failedJob = async (jobType: string, code: string) => cp.services.db.execute({
      sql: `INSERT INTO jobs (id, job_type, status, error_code, site_id, environment_id, node_id, payload_json, attempt_count, max_attempts, started_at, finished_at, created_at, updated_at)
        SELECT ?, ?, 'failed', ?, site_id, id, node_id, '{}', 1, 3, ?, ?, ?, ? FROM environments WHERE id = ?`,
      args: [crypto.randomUUID(), jobType, code, later(5), later(10), later(5), later(10), site.productionId],
    })
    // An import whose archive was refused before anything was unpacked into the site.
    await failedJob('site_import', 'IMPORT_ARCHIVE_INVALID')
    const update = await jobById(cp, (await (await cp.request('POST', `/api/environments/${site.productionId}/updates`, { scope: 'plugins' })).json()).job_id)
    expect(update.payload.pre_backup_id).toBe(backup)
    expect(await jobsOfType(cp, 'backup_create')).toHaveLength(0)
    expect((await cp.request('POST', `/api/jobs/${update.id}/cancel`)).status).toBe(200)
    // A deploy that failed its health check may have run migrations: the backup no longer shows the environment.
    await failedJob('env_deploy', 'HEALTH_CHECK_FAILED')
    const second = await jobById(cp, (await (await cp.request('POST', `/api/environments/${site.productionId}/updates`, { scope: 'core' })).json()).job_id)
    expect(second.payload.pre_backup_id).not.toBe(backup)
    expect(await jobsOfType(cp, 'backup_create')).toHaveLength(1)
  })

  it('updates answers 409 backup_storage_not_configured without storage, and 400 for an unknown scope', async () => {
    await expectError(await cp.request('POST', `/api/environments/${site.productionId}/updates`, { scope: 'everything' }), 400, 'bad_request')
    expect((await cp.request('PATCH', '/_admin/settings', { backup_s3_endpoint: null, backup_s3_bucket: null, backup_s3_access_key_id: null, backup_s3_secret_access_key: null })).status).toBe(200)
    await expectError(await cp.request('POST', `/api/environments/${site.productionId}/updates`, { scope: 'core' }), 409, 'backup_storage_not_configured')
    expect(await count(cp, 'jobs', "job_type IN ('env_update', 'backup_create')")).toBe(0)
    expect(await count(cp, 'backups')).toBe(0)
  })

  it('restore enqueues env_restore with the backup and a pre-restore backup', async () => {
    const stagingId = await createActiveStaging(cp, site)
    const source = await insertBackupRow(cp, stagingId, { completed_at: minutesAgo(120) })
    const res = await cp.request('POST', `/api/environments/${site.productionId}/restore`, { backup_id: source })
    expect(res.status).toBe(202)
    const job = await jobById(cp, (await res.json()).job_id)
    const pre = await row<{ id: string }>(cp, "SELECT id FROM backups WHERE status = 'pending'")
    expect(job).toMatchObject({ job_type: 'env_restore', environment_id: site.productionId })
    expect(job.payload).toEqual({ backup_id: source, pre_backup_id: pre.id })
    const [backupJob] = await jobsOfType(cp, 'backup_create')
    expect(JSON.parse(backupJob.payload_json)).toEqual({ backup_id: pre.id, purpose: 'pre_restore' })
    expect((await auditsFor(cp, 'env_restore'))[0].details).toEqual({ backup_id: source, pre_backup_id: pre.id, pre_backup_job_id: backupJob.id })
  })

  it('restore answers 404 for an unknown backup and 409 backup_not_restorable for unusable or foreign backups', async () => {
    const missing = await expectError(await cp.request('POST', `/api/environments/${site.productionId}/restore`, { backup_id: crypto.randomUUID() }), 404, 'not_found')
    expect(missing.details).toEqual({ field: 'backup_id' })
    const other = await createActiveSite(cp, 'other')
    for (const backupId of [
      await insertBackupRow(cp, site.productionId, { status: 'pending' }),
      await insertBackupRow(cp, site.productionId, { status: 'failed' }),
      await insertBackupRow(cp, site.productionId, { status: 'expired', completed_at: minutesAgo(10) }),
      await insertBackupRow(cp, site.productionId, { retention_until: minutesAgo(1) }),
      await insertBackupRow(cp, other.productionId),
    ]) {
      await expectError(await cp.request('POST', `/api/environments/${site.productionId}/restore`, { backup_id: backupId }), 409, 'backup_not_restorable')
    }
    await expectError(await cp.request('POST', `/api/environments/${site.productionId}/restore`, { backup_id: 'x' }), 400, 'bad_request')
    expect(await jobsOfType(cp, 'env_restore')).toHaveLength(0)
  })
})

describe('POST /api/environments/{id}/promote', () => {
  let cp: TestControlPlane
  let site: SeededSite
  let stagingId: string
  beforeEach(async () => {
    ({ cp, site } = await startWithActiveSite())
    stagingId = await createActiveStaging(cp, site)
  })
  afterEach(async () => { await cp.close() })

  const promote = (from: string, to: string) => cp.request('POST', `/api/environments/${from}/promote`, { target_environment_id: to })

  it('enqueues env_promote on the production environment with the gate ids once both gates are met', async () => {
    await insertDriftCheck(cp, stagingId, { checked_at: minutesAgo(20) })
    const driftId = await insertDriftCheck(cp, stagingId, { checked_at: minutesAgo(5) })
    const backupId = await insertBackupRow(cp, site.productionId, { completed_at: minutesAgo(10) })
    const res = await promote(stagingId, site.productionId)
    expect(res.status).toBe(202)
    const job = await jobById(cp, (await res.json()).job_id)
    expect(job).toMatchObject({ job_type: 'env_promote', environment_id: site.productionId, site_id: site.siteId, node_id: site.nodeId })
    expect(job.payload).toEqual({ source_environment_id: stagingId, gate_backup_id: backupId, drift_check_id: driftId })
    const [audit] = await auditsFor(cp, 'env_promote')
    expect(audit).toMatchObject({ resource_type: 'environment', resource_id: site.productionId, job_id: job.id, result: 'accepted' })
    expect(audit.details).toMatchObject({ source_environment_id: stagingId })
  })

  it('answers 409 invalid_promotion_target unless a staging/clone goes into production of its own site', async () => {
    const other = await createActiveSite(cp, 'other')
    const second = await createActiveStaging(cp, site, 'second')
    await expectError(await promote(site.productionId, site.productionId), 409, 'invalid_promotion_target')
    await expectError(await promote(stagingId, second), 409, 'invalid_promotion_target')
    await expectError(await promote(stagingId, other.productionId), 409, 'invalid_promotion_target')
    const missing = await expectError(await promote(stagingId, crypto.randomUUID()), 404, 'not_found')
    expect(missing.details).toEqual({ field: 'target_environment_id' })
  })

  it('answers 409 drift_gate_unmet without a fresh clean check of the current preset', async () => {
    await insertBackupRow(cp, site.productionId)
    await expectError(await promote(stagingId, site.productionId), 409, 'drift_gate_unmet')
    await insertDriftCheck(cp, stagingId, { kind: 'baseline' })
    await expectError(await promote(stagingId, site.productionId), 409, 'drift_gate_unmet')
    await insertDriftCheck(cp, stagingId, { checked_at: minutesAgo(61) })
    await expectError(await promote(stagingId, site.productionId), 409, 'drift_gate_unmet')
    await insertDriftCheck(cp, stagingId, { promotion_preset: 'commerce-protect', checked_at: minutesAgo(3) })
    await expectError(await promote(stagingId, site.productionId), 409, 'drift_gate_unmet')
    await insertDriftCheck(cp, stagingId, { status: 'clean', checked_at: minutesAgo(2) })
    await insertDriftCheck(cp, stagingId, { status: 'drifted', checked_at: minutesAgo(1) })
    const drifted = await expectError(await promote(stagingId, site.productionId), 409, 'drift_gate_unmet')
    expect(drifted.details).toMatchObject({ status: 'drifted' })
    expect(await jobsOfType(cp, 'env_promote')).toHaveLength(0)
  })

  it('answers 409 backup_gate_unmet without a fresh usable full backup of production', async () => {
    await insertDriftCheck(cp, stagingId)
    await expectError(await promote(stagingId, site.productionId), 409, 'backup_gate_unmet')
    await insertBackupRow(cp, site.productionId, { completed_at: minutesAgo(61) })
    await insertBackupRow(cp, site.productionId, { backup_scope: 'db' })
    await insertBackupRow(cp, stagingId)
    await insertBackupRow(cp, site.productionId, { status: 'running' })
    await expectError(await promote(stagingId, site.productionId), 409, 'backup_gate_unmet')
  })

  it('requires source and target active, the site not failed and the node active', async () => {
    await insertDriftCheck(cp, stagingId)
    await insertBackupRow(cp, site.productionId)
    await cp.services.db.execute({ sql: "UPDATE environments SET status = 'restoring' WHERE id = ?", args: [site.productionId] })
    const target = await expectError(await promote(stagingId, site.productionId), 409, 'environment_not_active')
    expect(target.details).toMatchObject({ environment_id: site.productionId })
    await cp.services.db.execute({ sql: "UPDATE nodes SET status = 'unreachable'", args: [] })
    await expectError(await promote(stagingId, site.productionId), 409, 'node_not_active')
    await cp.services.db.execute({ sql: "UPDATE sites SET status = 'failed'", args: [] })
    await expectError(await promote(stagingId, site.productionId), 409, 'site_not_active')
    await cp.services.db.execute({ sql: "UPDATE environments SET status = 'failed' WHERE id = ?", args: [stagingId] })
    const source = await expectError(await promote(stagingId, site.productionId), 409, 'environment_not_active')
    expect(source.details).toMatchObject({ environment_id: stagingId, status: 'failed' })
  })
})
