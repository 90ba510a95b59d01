import crypto from 'node:crypto'
import { describe, it, expect, beforeEach, afterEach } from 'vitest'
import { createTestControlPlane, type TestControlPlane } from '../support/control-plane.js'
import { insertActiveNode, createActiveSite, insertBackupRow, insertDriftCheck, row, auditsFor, type SeededSite } from '../support/seed.js'
import type { JobQueue } from '../../runtime/jobs/job-queue.js'

const WORKER = 'test-host:1'
let seq = 0

interface NewRow {
  type: string; site?: SeededSite | null; node?: string; status?: string; parent?: string | null; run_after?: string | null
  created_at?: string; payload?: Record<string, unknown>; requested_by?: string | null; attempt_count?: number
}

async function addJob(cp: TestControlPlane, fields: NewRow): Promise<string> {
  const id = crypto.randomUUID()
  const created = fields.created_at ?? new Date(Date.parse('2026-01-01T00:00:00.000Z') + (++seq) * 1000).toISOString()
  await cp.services.db.execute({
    sql: `INSERT INTO jobs (id, job_type, status, site_id, environment_id, node_id, parent_job_id, requested_by, payload_json, attempt_count,
      max_attempts, run_after, locked_at, locked_by, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 3, ?, ?, ?, ?, ?)`,
    args: [id, fields.type, fields.status ?? 'queued', fields.site?.siteId ?? null, fields.site?.productionId ?? null,
      fields.node ?? fields.site?.nodeId ?? null, fields.parent ?? null, fields.requested_by ?? null, JSON.stringify(fields.payload ?? {}),
      fields.attempt_count ?? 0, fields.run_after ?? null, fields.status === 'running' ? created : null, fields.status === 'running' ? 'other:2' : null, created, created],
  })
  return id
}

describe('claiming jobs (docs/architecture.md "Job lifecycle")', () => {
  let cp: TestControlPlane
  let queue: JobQueue
  let a: SeededSite
  let b: SeededSite
  let nodeA: string
  let nodeB: string
  const noBusy = { nodes: [], sites: [] }

  beforeEach(async () => {
    cp = await createTestControlPlane()
    await cp.login()
    nodeA = await insertActiveNode(cp, { name: 'node-a' })
    nodeB = await insertActiveNode(cp, { name: 'node-b' })
    a = await createActiveSite(cp, 'site-a', nodeA)
    b = await createActiveSite(cp, 'site-b', nodeB)
    queue = cp.services.jobQueue
  })
  afterEach(async () => { await cp.close() })

  const claim = async (busy: { nodes: string[]; sites: string[] } = noBusy) => {
    const result = await queue.claimNext(WORKER, busy)
    return result.outcome === 'none' ? null : result
  }

  it('claims in order COALESCE(run_after, created_at), created_at, id and marks the job running with a lock', async () => {
    const later = await addJob(cp, { type: 'cache_purge', site: a, created_at: '2026-01-01T00:00:05.000Z' })
    const earlier = await addJob(cp, { type: 'cache_purge', site: b, created_at: '2026-01-01T00:00:02.000Z' })
    const first = await claim()
    expect(first).toMatchObject({ outcome: 'running', job: { id: earlier, status: 'running', attempt_count: 1, locked_by: WORKER } })
    expect(first!.job.locked_at).toBe(first!.job.started_at)
    expect((await claim())?.job.id).toBe(later)
  })

  it('fails a queued row of an unregistered job type with INTERNAL_ERROR instead of letting it block the queue', async () => {
    const unknown = await addJob(cp, { type: 'teleport_site', site: a, created_at: '2026-01-01T00:00:01.000Z' })
    const next = await addJob(cp, { type: 'cache_purge', site: b, created_at: '2026-01-01T00:00:02.000Z' })
    expect((await claim())?.job.id).toBe(next)
    expect(await row<{ status: string; error_code: string; error_message: string }>(cp, 'SELECT status, error_code, error_message FROM jobs WHERE id = ?', [unknown]))
      .toEqual({ status: 'failed', error_code: 'INTERNAL_ERROR', error_message: 'No module runtime/jobs/types/ registers the job type teleport_site' })
  })

  it('never claims a job before its run_after', async () => {
    await addJob(cp, { type: 'cache_purge', site: a, run_after: new Date(Date.now() + 60_000).toISOString() })
    expect(await claim()).toBeNull()
    const due = await addJob(cp, { type: 'cache_purge', site: a, run_after: new Date(Date.now() - 1000).toISOString() })
    expect((await claim())?.job.id).toBe(due)
  })

  it('keeps one running job per site and per node', async () => {
    await addJob(cp, { type: 'cache_purge', site: a, status: 'running' })
    const sameSite = await addJob(cp, { type: 'cache_purge', site: a })
    const siteOnSameNode = await createActiveSite(cp, 'site-c', nodeA)
    const sameNode = await addJob(cp, { type: 'cache_purge', site: siteOnSameNode })
    const other = await addJob(cp, { type: 'cache_purge', site: b })
    expect((await claim())?.job.id).toBe(other)
    expect(await claim()).toBeNull()
    await cp.services.db.execute("UPDATE jobs SET status = 'succeeded' WHERE status = 'running'")
    const next = await claim()
    expect([sameSite, sameNode]).toContain(next?.job.id)
    expect(await claim()).toBeNull()
  })

  it('treats a global job as holding its node', async () => {
    await addJob(cp, { type: 'backup_cleanup', site: null, node: nodeA, status: 'running' })
    await addJob(cp, { type: 'cache_purge', site: a })
    expect(await claim()).toBeNull()
  })

  it('skips sites and nodes still busy in this process (a cancelled job whose playbook is being stopped)', async () => {
    await addJob(cp, { type: 'cache_purge', site: a })
    expect(await claim({ nodes: [], sites: [a.siteId] })).toBeNull()
    expect(await claim({ nodes: [nodeA], sites: [] })).toBeNull()
    expect((await claim())?.outcome).toBe('running')
  })

  it("runs a site's queued follow-up before any other job of that site, and follow-ups before older jobs elsewhere", async () => {
    const parent = await addJob(cp, { type: 'env_deploy', site: a, status: 'succeeded' })
    const olderOfA = await addJob(cp, { type: 'cache_purge', site: a, created_at: '2025-12-31T00:00:00.000Z' })
    const olderOfB = await addJob(cp, { type: 'cache_purge', site: b, created_at: '2025-12-31T00:00:01.000Z' })
    const followUp = await addJob(cp, { type: 'cache_purge', site: a, parent })
    expect((await claim())?.job.id).toBe(followUp)
    expect((await claim())?.job.id).toBe(olderOfB)
    expect(await claim()).toBeNull()
    await cp.services.db.execute({ sql: "UPDATE jobs SET status = 'succeeded' WHERE id = ?", args: [followUp] })
    expect((await claim())?.job.id).toBe(olderOfA)
  })

  it('holds a job while its pre-operation backup is pending or running, then fails it at start unless the backup is usable', async () => {
    const backup = await insertBackupRow(cp, a.productionId, { status: 'pending' })
    const job = await addJob(cp, { type: 'env_update', site: a, payload: { scope: 'core', pre_backup_id: backup } })
    expect(await claim()).toBeNull()
    await cp.services.db.execute({ sql: "UPDATE backups SET status = 'failed' WHERE id = ?", args: [backup] })
    const result = await claim()
    expect(result).toMatchObject({ outcome: 'precondition_failed', job: { id: job, status: 'failed', error_code: 'PRE_OPERATION_BACKUP_FAILED', attempt_count: 1 } })
    expect(result!.job.finished_at).not.toBeNull()
    // Nothing was moved: the pre-existing site and environment stay active.
    expect((await row<{ status: string }>(cp, 'SELECT status FROM sites WHERE id = ?', [a.siteId])).status).toBe('active')
    expect((await row<{ status: string }>(cp, 'SELECT status FROM environments WHERE id = ?', [a.productionId])).status).toBe('active')
  })

  it('applies the start transition in the claim (env_deploy: site and environment → deploying)', async () => {
    await addJob(cp, { type: 'env_deploy', site: a, payload: { source_type: 'git', source_ref: 'https://example.test/r.git#main' } })
    expect((await claim())?.outcome).toBe('running')
    expect((await row<{ status: string; state_version: number }>(cp, 'SELECT status, state_version FROM sites WHERE id = ?', [a.siteId]))).toMatchObject({ status: 'deploying' })
    expect((await row<{ status: string }>(cp, 'SELECT status FROM environments WHERE id = ?', [a.productionId])).status).toBe('deploying')
  })

  it('fails a job on a non-active node with NODE_NOT_ACTIVE at start, failing a new site and writing the completion audit row', async () => {
    await cp.services.db.execute({ sql: "UPDATE nodes SET status = 'unreachable' WHERE id = ?", args: [nodeA] })
    await cp.services.db.execute({ sql: "UPDATE sites SET status = 'deploying' WHERE id = ?", args: [a.siteId] })
    await cp.services.db.execute({ sql: "UPDATE environments SET status = 'deploying' WHERE id = ?", args: [a.productionId] })
    const admin = await row<{ id: string }>(cp, 'SELECT id FROM users')
    const job = await addJob(cp, { type: 'site_create', site: a, requested_by: admin.id })
    const result = await claim()
    expect(result).toMatchObject({ outcome: 'precondition_failed', job: { id: job, error_code: 'NODE_NOT_ACTIVE', locked_by: null } })
    expect((await row<{ status: string }>(cp, 'SELECT status FROM sites WHERE id = ?', [a.siteId])).status).toBe('failed')
    expect((await row<{ status: string }>(cp, 'SELECT status FROM environments WHERE id = ?', [a.productionId])).status).toBe('failed')
    const audits = await auditsFor(cp, 'site_create')
    expect(audits.filter((r) => r.job_id === job)).toMatchObject([{ result: 'failed', resource_type: 'site', resource_id: a.siteId, user_id: admin.id }])
  })

  it('fails SITE_NOT_ACTIVE at start when a job that moves the site finds it failed', async () => {
    await cp.services.db.execute({ sql: "UPDATE sites SET status = 'failed' WHERE id = ?", args: [a.siteId] })
    await addJob(cp, { type: 'env_deploy', site: a, payload: { source_type: 'git', source_ref: 'https://example.test/r.git#main' } })
    expect((await claim())?.job.error_code).toBe('SITE_NOT_ACTIVE')
  })

  it('checks both promotion gates again at start: the drift gate, then the backup gate, and starts once both are met', async () => {
    const stale = await insertBackupRow(cp, a.productionId, { completed_at: new Date(Date.now() - 2 * 3600_000).toISOString() })
    const promote = (gateBackup: string) => addJob(cp, { type: 'env_promote', site: a, payload: { source_environment_id: a.productionId, gate_backup_id: gateBackup } })
    // No drift check at all: the drift gate fails first.
    await promote(stale)
    expect((await claim())?.job).toMatchObject({ status: 'failed', error_code: 'DRIFT_GATE_UNMET' })
    // A fresh clean check meets the drift gate; the 2 h old gate backup still fails the backup gate (60 min freshness).
    await insertDriftCheck(cp, a.productionId, { status: 'clean' })
    await promote(stale)
    expect((await claim())?.job).toMatchObject({ status: 'failed', error_code: 'BACKUP_GATE_UNMET' })
    // A fresh full backup meets it too: the job starts.
    await promote(await insertBackupRow(cp, a.productionId))
    expect((await claim())?.job).toMatchObject({ status: 'running', error_code: null })
  })

  it('fails backup_create with BACKUP_STORAGE_NOT_CONFIGURED at start and fails its pending backup', async () => {
    const backup = await insertBackupRow(cp, a.productionId, { status: 'pending' })
    await addJob(cp, { type: 'backup_create', site: a, payload: { backup_id: backup, purpose: 'manual' } })
    expect((await claim())?.job.error_code).toBe('BACKUP_STORAGE_NOT_CONFIGURED')
    expect((await row<{ status: string }>(cp, 'SELECT status FROM backups WHERE id = ?', [backup])).status).toBe('failed')
  })
})
