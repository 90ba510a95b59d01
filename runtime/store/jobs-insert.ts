// SQL to insert a queued job; used inside the caller's transaction so the job commits with the resource change.
import crypto from 'node:crypto'
import type { Executor } from './db.js'
import { run } from './db.js'
import { nowIso } from '../clock.js'

export interface NewJob {
  job_type: string
  site_id: string | null
  environment_id: string | null
  node_id: string
  payload: Record<string, unknown>
  requested_by: string | null
  parent_job_id?: string | null
  run_after?: string | null
  max_attempts: number
  /** Lets callers that must reference the job (audit, pre-operation backups) choose the id. */
  id?: string
}

export async function insertJob(ex: Executor, job: NewJob): Promise<string> {
  const id = job.id ?? crypto.randomUUID()
  const now = nowIso()
  await run(ex, `INSERT INTO jobs (id, job_type, status, site_id, environment_id, node_id, parent_job_id, requested_by,
      payload_json, attempt_count, max_attempts, run_after, created_at, updated_at)
    VALUES (?, ?, 'queued', ?, ?, ?, ?, ?, ?, 0, ?, ?, ?, ?)`, [
    id, job.job_type, job.site_id, job.environment_id, job.node_id, job.parent_job_id ?? null, job.requested_by,
    JSON.stringify(job.payload), job.max_attempts, job.run_after ?? null, now, now,
  ])
  return id
}
