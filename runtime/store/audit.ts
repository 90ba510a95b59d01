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
}

export async function insertAudit(ex: Executor, entry: AuditEntry): Promise<void> {
  await run(ex, `INSERT INTO audit_logs (id, user_id, action, resource_type, resource_id, result, job_id, details_json, created_at)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`, [
    crypto.randomUUID(), entry.user_id, entry.action, entry.resource_type, entry.resource_id, entry.result,
    entry.job_id ?? null, entry.details ? JSON.stringify(entry.details) : null, nowIso(),
  ])
}
