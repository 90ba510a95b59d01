// What the API and the scheduled functions ask of the job engine: list, get, cancel, and the recurring enqueues.
import type { Db } from '../store/db.js'
import type { Config } from '../config.js'
import type { JobControl } from './job-control.js'
import { ApiError } from '../contracts/errors.js'
import { mapPage, pageRequest, type Page } from '../store/pagination.js'
import { enqueueBackupCleanupIfDue, enqueueDriftChecksIfDue, getJobRow, listJobRows, type JobFilters, type JobRow } from '../store/jobs.js'
import type { JobQueue } from './job-queue.js'
import { nowIso } from '../clock.js'

/** The Job resource of the API (contracts/openapi.json `Job`; payload and requester are not exposed). */
export interface JobView {
  id: string; job_type: string; status: string; site_id: string | null; environment_id: string | null; node_id: string | null
  parent_job_id: string | null; attempt_count: number; max_attempts: number; run_after: string | null; locked_at: string | null
  locked_by: string | null; started_at: string | null; finished_at: string | null; error_code: string | null
  error_message: string | null; created_at: string; updated_at: string
}

export function jobView(row: JobRow): JobView {
  return {
    id: row.id, job_type: row.job_type, status: row.status, site_id: row.site_id, environment_id: row.environment_id,
    node_id: row.node_id, parent_job_id: row.parent_job_id, attempt_count: Number(row.attempt_count), max_attempts: Number(row.max_attempts),
    run_after: row.run_after, locked_at: row.locked_at, locked_by: row.locked_by, started_at: row.started_at,
    finished_at: row.finished_at, error_code: row.error_code, error_message: row.error_message,
    created_at: row.created_at, updated_at: row.updated_at,
  }
}

const RETENTION_INTERVAL_MS = 6 * 3600 * 1000
const DRIFT_INTERVAL_MS = 24 * 3600 * 1000

export class JobService {
  constructor(private readonly db: Db, private readonly config: Config, private readonly queue: JobQueue, private readonly control: () => JobControl) {}

  async list(query: JobFilters & { limit?: number; cursor?: string }): Promise<Page<JobView>> {
    const { limit, cursor, ...filters } = query
    return mapPage(await listJobRows(this.db, filters, pageRequest({ limit, cursor })), jobView)
  }

  async get(id: string): Promise<JobView> {
    const row = await getJobRow(this.db, id)
    if (!row) throw new ApiError('not_found', 'Job not found')
    return jobView(row)
  }

  /** Cancels a queued or running job; a running playbook is then stopped (SIGTERM, 15 s grace, SIGKILL). */
  async cancel(id: string, userId: string): Promise<void> {
    const result = await this.queue.cancel(id, userId)
    if (result.outcome === 'not_found') throw new ApiError('not_found', 'Job not found')
    if (result.outcome === 'not_cancellable') throw new ApiError('job_not_cancellable', `Job is already ${result.status}`, { status: result.status })
    if (result.wasRunning) this.control().abortRunning(id)
    // Whatever the cancelled job held (its site, node, or a pre-operation backup) may now let another job run.
    this.control().wake()
  }

  /** `now` decides whether a cleanup is due (the retention clock); the job row is stamped with the system time. */
  async enqueueBackupCleanupIfDue(now: Date): Promise<string[]> {
    return enqueueBackupCleanupIfDue(this.db, { now: nowIso(), dueBefore: new Date(now.getTime() - RETENTION_INTERVAL_MS).toISOString(), maxAttempts: this.config.maxAttempts })
  }

  async enqueueDriftChecksIfDue(now: Date): Promise<string[]> {
    return enqueueDriftChecksIfDue(this.db, { now: now.toISOString(), dueBefore: new Date(now.getTime() - DRIFT_INTERVAL_MS).toISOString(), maxAttempts: this.config.maxAttempts })
  }
}
