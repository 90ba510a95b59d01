// SQL for the append-only audit log.
import crypto from 'node:crypto'
import type { Executor } from './db.js'
import { run } from './db.js'
import { nowIso } from '../clock.js'

export type AuditResourceType = 'site' | 'environment' | 'node' | 'backup' | 'domain' | 'job' | 'settings' | 'user'
export type AuditResult = 'accepted' | 'succeeded' | 'failed' | 'cancelled'

export interface AuditEntry {
  user_id: string
  action: string
  resource_type: AuditResourceType
  resource_id: string
  result: AuditResult
  job_id?: string | null
  details?: Record<string, unknown> | null
  /** The API token the request was made with (actor.token_id); recorded as `details.token_id`. Sessions leave it unset. */
  token_id?: string | null
}

/** Writes one audit row; an action done with an API token records that token's id as `details.token_id`. */
export async function insertAudit(ex: Executor, entry: AuditEntry): Promise<void> {
  const details = entry.token_id ? { ...entry.details, token_id: entry.token_id } : entry.details
  await run(ex, `INSERT INTO audit_logs (id, user_id, action, resource_type, resource_id, result, job_id, details_json, created_at)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`, [
    crypto.randomUUID(), entry.user_id, entry.action, entry.resource_type, entry.resource_id, entry.result,
    entry.job_id ?? null, details ? JSON.stringify(details) : null, nowIso(),
  ])
}
