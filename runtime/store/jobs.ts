// SQL of the job queue: eligibility and claim, completion, cancel, stale-run lookup, listing and the recurring enqueues.
import crypto from 'node:crypto'
import type { InStatement } from '@libsql/client'
import type { Db, Executor } from './db.js'
import { queryAll, queryOne } from './db.js'
import { selectPage, type Page, type PageRequest } from './pagination.js'
import { stmt, type Guard } from './job-guard.js'
import { BACKUP_STORAGE_CONFIGURED_SQL } from './settings-sql.js'

export interface JobRow {
  id: string
  job_type: string
  status: string
  site_id: string | null
  environment_id: string | null
  node_id: string | null
  parent_job_id: string | null
  requested_by: string | null
  payload_json: string
  attempt_count: number
  max_attempts: number
  run_after: string | null
  locked_at: string | null
  locked_by: string | null
  started_at: string | null
  finished_at: string | null
  error_code: string | null
  error_message: string | null
  created_at: string
  updated_at: string
}

/**
 * Eligibility rules 1-4 of docs/architecture.md "Queueing and claiming" for the job aliased `j` (rule 5, the runner limit,
 * is the engine's). `busy` lists the sites and nodes of runners this process still has, e.g. a cancelled job whose
 * playbook is being stopped: its row is terminal, but its process still touches the node.
 */
function eligible(j: string): string {
  return `COALESCE(${j}.run_after, ${j}.created_at) <= ?
    AND NOT EXISTS (SELECT 1 FROM jobs r WHERE r.node_id = ${j}.node_id AND r.status = 'running')
    AND (${j}.site_id IS NULL OR NOT EXISTS (SELECT 1 FROM jobs r WHERE r.site_id = ${j}.site_id AND r.status = 'running'))
    AND (${j}.parent_job_id IS NOT NULL OR ${j}.site_id IS NULL
      OR NOT EXISTS (SELECT 1 FROM jobs f INDEXED BY jobs_queued_follow_ups_site WHERE f.site_id = ${j}.site_id AND f.status = 'queued' AND f.parent_job_id IS NOT NULL))
    AND NOT EXISTS (SELECT 1 FROM backups b WHERE b.id = json_extract(${j}.payload_json, '$.pre_backup_id') AND b.status IN ('pending', 'running'))
    AND ${j}.node_id NOT IN (SELECT value FROM json_each(?))
    AND (${j}.site_id IS NULL OR ${j}.site_id NOT IN (SELECT value FROM json_each(?)))`
}

export interface Busy { nodes: string[]; sites: string[] }

/**
 * The next claimable job: follow-ups first, then COALESCE(run_after, created_at), created_at, id. Two queries, each
 * walking its own partial index (0002_job_claim_indexes.sql) in claim order, so the cost does not grow with the queue.
 */
export async function findClaimCandidate(ex: Executor, now: string, busy: Busy): Promise<JobRow | undefined> {
  const args = [now, JSON.stringify(busy.nodes), JSON.stringify(busy.sites)]
  // INDEXED BY: without statistics the planner would scan by status and sort the whole queue. One round trip for both.
  const pick = (followUps: boolean) => `SELECT * FROM (SELECT *, ${followUps ? 0 : 1} AS claim_rank FROM jobs j
    INDEXED BY ${followUps ? 'jobs_claim_follow_ups' : 'jobs_claim_others'}
    WHERE j.status = 'queued' AND j.parent_job_id IS ${followUps ? 'NOT NULL' : 'NULL'} AND ${eligible('j')}
    ORDER BY COALESCE(j.run_after, j.created_at), j.created_at, j.id LIMIT 1)`
  const row = await queryOne<JobRow & { claim_rank?: number }>(ex, `${pick(true)} UNION ALL ${pick(false)} ORDER BY claim_rank LIMIT 1`, [...args, ...args])
  if (row) delete row.claim_rank
  return row
}

export interface ClaimInput {
  job: JobRow
  workerId: string
  /** Unique per engine write (job clock): becomes locked_at, started_at and updated_at. */
  at: string
  busy: Busy
  precondition: Guard
  /** Start transition, guarded by jobGuard(job.id, 'running', at). */
  start: InStatement[]
  /** Effects of a precondition failure at start, guarded by jobGuard(job.id, 'failed', at). */
  preconditionFailure: InStatement[]
}

export type ClaimResult = { outcome: 'running'; job: JobRow } | { outcome: 'failed'; job: JobRow } | { outcome: 'lost' }

/**
 * One claim = one write batch (one transaction, no interactive connection): the conditional UPDATE re-checks every
 * eligibility rule, the precondition UPDATE turns the claim into a final failure in the same transaction, then the start
 * transition or the precondition-failure effects apply, each guarded by the job row this batch wrote.
 */
export async function claimJob(db: Db, input: ClaimInput): Promise<ClaimResult> {
  const { job, workerId, at } = input
  const statements: InStatement[] = [
    stmt(`UPDATE jobs SET status = 'running', attempt_count = attempt_count + 1, locked_at = ?, locked_by = ?, started_at = ?, updated_at = ?
      WHERE id = ? AND status = 'queued' AND ${eligible('jobs')}`,
    [at, workerId, at, at, job.id, at, JSON.stringify(input.busy.nodes), JSON.stringify(input.busy.sites)]),
    stmt(`UPDATE jobs SET status = 'failed', error_code = p.code, error_message = ?, finished_at = ?, locked_at = NULL, locked_by = NULL
      FROM (SELECT ${input.precondition.sql} AS code) AS p
      WHERE jobs.id = ? AND jobs.status = 'running' AND jobs.updated_at = ? AND p.code IS NOT NULL`,
    ['Precondition not met when the job started; nothing was changed on the node', at, ...input.precondition.args, job.id, at]),
  ]
  statements.push(...input.start, ...input.preconditionFailure)
  statements.push(stmt('SELECT * FROM jobs WHERE id = ?', [job.id]))
  const results = await db.batch(statements, 'write')
  const row = results[results.length - 1].rows[0] as unknown as JobRow | undefined
  if (!row || row.updated_at !== at) return { outcome: 'lost' }
  const plain = { ...row, attempt_count: Number(row.attempt_count), max_attempts: Number(row.max_attempts) } as JobRow
  return plain.status === 'running' ? { outcome: 'running', job: plain } : { outcome: 'failed', job: plain }
}

/** Ends a queued job at once, e.g. one whose job_type no module registers (the database no longer checks the type). */
export async function failQueuedJob(db: Db, job: JobRow, code: string, message: string, at: string): Promise<boolean> {
  const result = await db.execute(stmt(`UPDATE jobs SET status = 'failed', error_code = ?, error_message = ?, finished_at = ?, updated_at = ?
    WHERE id = ? AND status = 'queued' AND updated_at = ?`, [code, message, at, at, job.id, job.updated_at]))
  return result.rowsAffected === 1
}

export interface JobWrite {
  status: 'succeeded' | 'failed' | 'queued' | 'cancelled'
  errorCode: string | null
  errorMessage: string | null
  runAfter: string | null
}

/**
 * Completion (and stale-run recovery): conditional on the job still being running under the lock the runner holds,
 * so an admin's cancel or a recovery that got there first makes the whole batch a no-op. `effects` are guarded by
 * jobGuard(job.id, write.status, at).
 */
export async function completeJob(db: Db, job: JobRow, lock: { lockedBy: string; lockedAt: string }, write: JobWrite, at: string,
  effects: InStatement[]): Promise<boolean> {
  const terminal = write.status !== 'queued'
  const results = await db.batch([
    stmt(`UPDATE jobs SET status = ?, error_code = ?, error_message = ?, run_after = ?, finished_at = ?, locked_at = NULL, locked_by = NULL, updated_at = ?
      WHERE id = ? AND status = 'running' AND locked_by = ? AND locked_at = ?`,
    [write.status, write.errorCode, write.errorMessage, write.runAfter, terminal ? at : null, at, job.id, lock.lockedBy, lock.lockedAt]),
    ...effects,
  ], 'write')
  return results[0].rowsAffected === 1
}

/**
 * Cancel: conditional on the status and attempt the caller read, so the effects match the state it decided on.
 * `effects` are guarded by jobGuard(job.id, 'cancelled', at).
 */
export async function cancelJobRow(db: Db, job: JobRow, at: string, effects: InStatement[]): Promise<boolean> {
  const results = await db.batch([
    stmt(`UPDATE jobs SET status = 'cancelled', error_code = 'JOB_CANCELLED', error_message = 'Cancelled by the admin', finished_at = ?,
        run_after = NULL, locked_at = NULL, locked_by = NULL, updated_at = ?
      WHERE id = ? AND status = ? AND attempt_count = ? AND updated_at = ?`,
    [at, at, job.id, job.status, job.attempt_count, job.updated_at]),
    ...effects,
  ], 'write')
  return results[0].rowsAffected === 1
}

export async function getJobRow(ex: Executor, id: string): Promise<JobRow | undefined> {
  return queryOne<JobRow>(ex, 'SELECT * FROM jobs WHERE id = ?', [id])
}

export interface JobFilters { status?: string; job_type?: string; site_id?: string; environment_id?: string; node_id?: string }

export async function listJobRows(ex: Executor, filters: JobFilters, page: PageRequest): Promise<Page<JobRow>> {
  const where: string[] = []
  const args: unknown[] = []
  for (const key of ['status', 'job_type', 'site_id', 'environment_id', 'node_id'] as const) {
    if (filters[key] !== undefined) { where.push(`${key} = ?`); args.push(filters[key]) }
  }
  return selectPage<JobRow>(ex, { from: 'jobs', where, args }, page)
}

/**
 * Stale running jobs (docs/architecture.md "Crash recovery"): at start-up those locked by this host under another pid;
 * always those whose lock is older than job timeout + 5 min.
 */
export async function findStaleJobs(ex: Executor, input: { hostPrefix: string; workerId: string; startup: boolean; lockedBefore: string }): Promise<JobRow[]> {
  return queryAll<JobRow>(ex, `SELECT * FROM jobs WHERE status = 'running'
      AND ((? = 1 AND substr(locked_by, 1, length(?)) = ? AND locked_by <> ?) OR locked_at < ?)
    ORDER BY locked_at, id`, [input.startup ? 1 : 0, input.hostPrefix, input.hostPrefix, input.workerId, input.lockedBefore])
}

export async function runningJobIds(ex: Executor): Promise<Set<string>> {
  const rows = await queryAll<{ id: string }>(ex, "SELECT id FROM jobs WHERE status = 'running'")
  return new Set(rows.map((r) => r.id))
}

// ---- recurring enqueues (docs/architecture.md "Recurring schedule") ----


/**
 * One backup_cleanup when the newest is older than 6 h (or there is none), unless one is queued/running, storage is
 * unconfigured or no node is active. One INSERT … SELECT: the de-dup check and the insert are one statement.
 */
export async function enqueueBackupCleanupIfDue(db: Db, input: { now: string; dueBefore: string; maxAttempts: number }): Promise<string[]> {
  const id = crypto.randomUUID()
  const result = await db.execute(stmt(`INSERT INTO jobs (id, job_type, status, site_id, environment_id, node_id, payload_json, attempt_count, max_attempts, created_at, updated_at)
    SELECT ?, 'backup_cleanup', 'queued', NULL, NULL, n.id, '{}', 0, ?, ?, ?
    FROM (SELECT id FROM nodes WHERE status = 'active' ORDER BY is_local DESC, created_at, id LIMIT 1) n
    WHERE ${BACKUP_STORAGE_CONFIGURED_SQL}
      AND NOT EXISTS (SELECT 1 FROM jobs WHERE job_type = 'backup_cleanup' AND (status IN ('queued', 'running') OR created_at > ?))`,
  [id, input.maxAttempts, input.now, input.now, input.dueBefore]))
  return result.rowsAffected === 1 ? [id] : []
}

/** Environments due for the daily drift_check: active, non-production, on an active node, none within 24 h or in flight. */
export async function enqueueDriftChecksIfDue(db: Db, input: { now: string; dueBefore: string; maxAttempts: number }): Promise<string[]> {
  const due = await queryAll<{ id: string }>(db, `SELECT e.id FROM environments e JOIN nodes n ON n.id = e.node_id
    WHERE e.status = 'active' AND e.environment_type <> 'production' AND n.status = 'active'
      AND NOT EXISTS (SELECT 1 FROM jobs j WHERE j.environment_id = e.id AND j.job_type = 'drift_check'
        AND (j.status IN ('queued', 'running') OR j.created_at > ?))`, [input.dueBefore])
  if (!due.length) return []
  const ids = due.map(() => crypto.randomUUID())
  const results = await db.batch(due.map((env, i) => stmt(`INSERT INTO jobs (id, job_type, status, site_id, environment_id, node_id, payload_json, attempt_count, max_attempts, created_at, updated_at)
    SELECT ?, 'drift_check', 'queued', e.site_id, e.id, e.node_id, '{"trigger":"schedule"}', 0, ?, ?, ?
    FROM environments e JOIN nodes n ON n.id = e.node_id
    WHERE e.id = ? AND e.status = 'active' AND e.environment_type <> 'production' AND n.status = 'active'
      AND NOT EXISTS (SELECT 1 FROM jobs j WHERE j.environment_id = e.id AND j.job_type = 'drift_check'
        AND (j.status IN ('queued', 'running') OR j.created_at > ?))`,
  [ids[i], input.maxAttempts, input.now, input.now, env.id, input.dueBefore])), 'write')
  return ids.filter((_, i) => results[i].rowsAffected === 1)
}
