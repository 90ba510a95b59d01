// SQL of the job event history (table job_events, migration 0006; docs/architecture.md "Live job progress").
import type { Db, InStatement } from './db.js'

export type JobEventKind = 'status' | 'task' | 'progress' | 'output' | 'truncated'

/** One event of a job's history: `seq` orders the events of one job (1, 2, …) across all its attempts. */
export interface JobEvent {
  seq: number
  kind: JobEventKind
  at: string
  data: Record<string, unknown>
}

export function insertJobEventStatements(jobId: string, events: JobEvent[]): InStatement[] {
  return events.map((e) => ({
    sql: 'INSERT OR IGNORE INTO job_events (job_id, seq, kind, data_json, at) VALUES (?, ?, ?, ?, ?)',
    args: [jobId, e.seq, e.kind, JSON.stringify(e.data), e.at],
  }))
}

function toEvent(row: Record<string, unknown>): JobEvent {
  return { seq: Number(row.seq), kind: row.kind as JobEventKind, at: String(row.at), data: JSON.parse(String(row.data_json)) as Record<string, unknown> }
}

export async function listJobEvents(db: Db, jobId: string, afterSeq = 0): Promise<JobEvent[]> {
  const result = await db.execute({ sql: 'SELECT seq, kind, data_json, at FROM job_events WHERE job_id = ? AND seq > ? ORDER BY seq', args: [jobId, afterSeq] })
  return result.rows.map(toEvent)
}

export async function maxJobEventSeq(db: Db, jobId: string): Promise<number> {
  const result = await db.execute({ sql: 'SELECT MAX(seq) AS seq FROM job_events WHERE job_id = ?', args: [jobId] })
  return Number(result.rows[0]?.seq ?? 0)
}

/** The newest task or progress event of a job (GET /api/jobs/{id} `progress`). */
export async function lastProgressEvent(db: Db, jobId: string): Promise<JobEvent | null> {
  const result = await db.execute({
    sql: "SELECT seq, kind, data_json, at FROM job_events WHERE job_id = ? AND kind IN ('task', 'progress') ORDER BY seq DESC LIMIT 1",
    args: [jobId],
  })
  return result.rows[0] ? toEvent(result.rows[0]) : null
}

/** Deletes the events of every finished job but the newest `keep` that have events. */
export async function pruneJobEvents(db: Db, keep: number): Promise<number> {
  const result = await db.execute({
    sql: `DELETE FROM job_events WHERE job_id IN (
            SELECT id FROM jobs WHERE finished_at IS NOT NULL AND EXISTS (SELECT 1 FROM job_events e WHERE e.job_id = jobs.id)
            ORDER BY finished_at DESC LIMIT -1 OFFSET ?)`,
    args: [keep],
  })
  return result.rowsAffected
}
