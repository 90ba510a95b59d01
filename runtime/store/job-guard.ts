// The guard every job-effect statement carries, and the job row's payload reader; shared by the job store modules.
import type { InStatement } from '@libsql/client'

/**
 * Guard appended to every effect statement: the job row carries the status and updated_at this write gave it.
 * The engine's timestamps are unique per process (runtime/jobs/job-clock.ts), so a guard matches exactly one write;
 * when the job write matched no row (an admin cancelled it first) every effect of the batch is a no-op.
 */
export interface Guard { sql: string; args: unknown[] }

export function jobGuard(jobId: string, status: string, at: string): Guard {
  return { sql: 'EXISTS (SELECT 1 FROM jobs WHERE id = ? AND status = ? AND updated_at = ?)', args: [jobId, status, at] }
}

export function stmt(sql: string, args: unknown[]): InStatement {
  return { sql, args: args as never }
}

/** The job's payload_json as an object ({} when it is not one). */
export function payloadOf(job: { payload_json: string }): Record<string, unknown> {
  try {
    const value: unknown = JSON.parse(job.payload_json)
    return value && typeof value === 'object' && !Array.isArray(value) ? value as Record<string, unknown> : {}
  } catch {
    return {}
  }
}

export function stringOrNull(value: unknown): string | null {
  return typeof value === 'string' && value !== '' ? value : null
}
