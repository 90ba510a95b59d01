// SQL for the resource transitions every job type declares (start, retry, failure, cancel), the preconditions checked
// at claim time, follow-up inserts and completion audit rows; each statement is guarded by the job's own write.
// Nothing here branches on the job type: the per-type effects are named functions in job-type-effects.ts.
import crypto from 'node:crypto'
import type { InStatement } from '@libsql/client'
import type { JobRow } from './jobs.js'
import { BACKUP_STORAGE_CONFIGURED_SQL } from './settings-sql.js'
import { payloadOf, stmt, stringOrNull, type Guard } from './job-guard.js'

/** A resource a job refers to: its site, environment and node columns, or the backup/domain id of its payload. */
export type ResourceRef = 'site' | 'environment' | 'node' | 'backup' | 'domain'

export interface StatusChange {
  resource: ResourceRef
  from: readonly string[]
  to: string
}

export interface FailureChange extends StatusChange {
  /**
   * Applied on every final failure and cancel, even before the job started: rows created for the job at acceptance
   * (new site/env, pending backup/domain, provisioning node) and the transitional state of a chain (follow-ups).
   * Without it the change applies only when the job had started (its start transition moved the resource).
   */
  always?: boolean
}

/** Checks made inside the claim batch; the first failing one fails the job with its error code (preconditionCase). */
export type Precondition =
  | 'node_active'
  | 'site_usable' // SITE_NOT_ACTIVE when a job that moves site status finds the site failed
  | 'pre_backup_usable'
  | 'drift_gate'
  | 'backup_gate'
  | 'storage_configured'
  | 'storage_for_s3_source' // a source_ref starting with s3:// needs backup storage
  | 'storage_for_db_restore' // a restore_db_backup_id needs backup storage
  | 'provider_configured' // mode = acquire needs the Hetzner token

/** The transitions of a job type, as its module declares them (runtime/jobs/job-type.ts). */
export interface Transitions {
  start: readonly StatusChange[]
  retry: readonly StatusChange[]
  failure: readonly FailureChange[]
}

export function resourceId(job: JobRow, resource: ResourceRef): string | null {
  switch (resource) {
    case 'site': return job.site_id
    case 'environment': return job.environment_id
    case 'node': return job.node_id
    case 'backup': return stringOrNull(payloadOf(job).backup_id)
    case 'domain': return stringOrNull(payloadOf(job).domain_id)
  }
}

/** One conditional status update; a resource not in one of `from` is left as it is. */
export function statusChange(job: JobRow, change: StatusChange, at: string, guard: Guard): InStatement[] {
  const id = resourceId(job, change.resource)
  if (!id) return []
  const from = change.from.map(() => '?').join(', ')
  const where = `WHERE id = ? AND status IN (${from}) AND ${guard.sql}`
  switch (change.resource) {
    case 'site':
    case 'environment':
    case 'node': {
      const table = change.resource === 'site' ? 'sites' : change.resource === 'environment' ? 'environments' : 'nodes'
      return [stmt(`UPDATE ${table} SET status = ?, state_version = state_version + 1, updated_at = ? ${where}`, [change.to, at, id, ...change.from, ...guard.args])]
    }
    case 'backup':
      return [stmt(`UPDATE backups SET status = ? ${where}`, [change.to, id, ...change.from, ...guard.args])]
    case 'domain':
      return [stmt(`UPDATE domains SET tls_status = ?, updated_at = ? WHERE id = ? AND tls_status IN (${from}) AND ${guard.sql}`, [change.to, at, id, ...change.from, ...guard.args])]
  }
}

export function statusChanges(job: JobRow, changes: readonly StatusChange[], at: string, guard: Guard): InStatement[] {
  return changes.flatMap((change) => statusChange(job, change, at, guard))
}

export interface FailureInput {
  code: string
  /** The job had started (an attempt's start transition ran), so it may have moved pre-existing resources. */
  started: boolean
  precondition: boolean
}

/**
 * Final failure and cancel effects from the declared transitions (docs/architecture.md "Job lifecycle"): rows created
 * for the job fail, resources the job moved fail (or, on a precondition failure, return to where they were).
 */
export function failureStatements(job: JobRow, transitions: Transitions, input: FailureInput, at: string, guard: Guard): InStatement[] {
  const out: InStatement[] = []
  if (input.precondition) {
    // Nothing changed on the node: rows created for the job still fail, moved pre-existing resources return to active.
    for (const change of transitions.failure) if (change.always) out.push(...statusChange(job, change, at, guard))
    if (input.started) for (const change of transitions.start) out.push(...statusChange(job, { resource: change.resource, from: [change.to], to: change.from[0] }, at, guard))
  } else {
    for (const change of transitions.failure) if (change.always || input.started) out.push(...statusChange(job, change, at, guard))
  }
  out.push(...unreachableNode(job, input.code, at, guard))
  return out
}

/** ANSIBLE_HOST_UNREACHABLE marks an active node unreachable, whatever the job type. */
export function unreachableNode(job: JobRow, code: string, at: string, guard: Guard): InStatement[] {
  return code === 'ANSIBLE_HOST_UNREACHABLE' ? statusChange(job, { resource: 'node', from: ['active'], to: 'unreachable' }, at, guard) : []
}

/** A queued follow-up job on the parent's site, environment and node (a chain: it runs before the site's other jobs). */
export function insertFollowUp(parent: JobRow, id: string, type: string, payload: Record<string, unknown>, maxAttempts: number, at: string, guard: Guard): InStatement {
  return stmt(`INSERT INTO jobs (id, job_type, status, site_id, environment_id, node_id, parent_job_id, requested_by,
      payload_json, attempt_count, max_attempts, created_at, updated_at)
    SELECT ?, ?, 'queued', ?, ?, ?, ?, ?, ?, 0, ?, ?, ? WHERE ${guard.sql}`, [
    id, type, parent.site_id, parent.environment_id, parent.node_id, parent.id, parent.requested_by,
    JSON.stringify(payload), maxAttempts, at, at, ...guard.args,
  ])
}

/** Completion audit row (`<job_type>`, succeeded/failed/cancelled) for jobs an admin's request created. */
export function completionAudit(job: JobRow, audit: ResourceRef, result: 'succeeded' | 'failed' | 'cancelled', at: string, guard: Guard, details?: Record<string, unknown>): InStatement[] {
  const resource = resourceId(job, audit)
  if (!job.requested_by || !resource) return []
  return [auditStatement(job.requested_by, job.job_type, audit, resource, result, job.id, details ?? null, at, guard)]
}

export function auditStatement(userId: string, action: string, resourceType: string, resourceId: string, result: string, jobId: string | null,
  details: Record<string, unknown> | null, at: string, guard: Guard): InStatement {
  return stmt(`INSERT INTO audit_logs (id, user_id, action, resource_type, resource_id, result, job_id, details_json, created_at)
    SELECT ?, ?, ?, ?, ?, ?, ?, ?, ? WHERE ${guard.sql}`, [
    crypto.randomUUID(), userId, action, resourceType, resourceId, result, jobId, details ? JSON.stringify(details) : null, at, ...guard.args,
  ])
}

/** Every successful job reached its node over SSH. */
export function nodeSeen(job: JobRow, at: string, guard: Guard): InStatement[] {
  if (!job.node_id) return []
  return [stmt(`UPDATE nodes SET last_seen_at = ?, state_version = state_version + 1, updated_at = ? WHERE id = ? AND ${guard.sql}`, [at, at, job.node_id, ...guard.args])]
}

// ---- preconditions at start ----

/**
 * The precondition checks of a job as one SQL CASE yielding the first failing error code or NULL, evaluated inside the
 * claim batch so the check and the start transition see the same state (docs/architecture.md "Job lifecycle").
 */
export function preconditionCase(job: JobRow, type: { preconditions: readonly Precondition[]; start: readonly StatusChange[] }, now: string, gateSince: string): Guard {
  const payload = payloadOf(job)
  const whens: string[] = []
  const args: unknown[] = []
  const storage = () => { whens.push(`WHEN NOT ${BACKUP_STORAGE_CONFIGURED_SQL} THEN 'BACKUP_STORAGE_NOT_CONFIGURED'`) }
  for (const check of type.preconditions) {
    switch (check) {
      case 'node_active':
        whens.push(`WHEN NOT EXISTS (SELECT 1 FROM nodes WHERE id = ? AND status = 'active') THEN 'NODE_NOT_ACTIVE'`)
        args.push(job.node_id)
        break
      case 'site_usable': {
        // A site this job moved on an earlier attempt is already in the job's in-progress state.
        const target = type.start.find((c) => c.resource === 'site')?.to ?? 'active'
        whens.push(`WHEN NOT EXISTS (SELECT 1 FROM sites WHERE id = ? AND status IN ('active', ?)) THEN 'SITE_NOT_ACTIVE'`)
        args.push(job.site_id, target)
        break
      }
      case 'pre_backup_usable':
        whens.push(`WHEN NOT EXISTS (SELECT 1 FROM backups WHERE id = ? AND status = 'completed' AND retention_until > ?) THEN 'PRE_OPERATION_BACKUP_FAILED'`)
        args.push(stringOrNull(payload.pre_backup_id), now)
        break
      case 'drift_gate':
        whens.push(`WHEN NOT EXISTS (SELECT 1 FROM (SELECT status, promotion_preset, checked_at FROM drift_checks WHERE environment_id = ? AND kind = 'check'
            ORDER BY checked_at DESC, id DESC LIMIT 1) d JOIN environments e ON e.id = ?
          WHERE d.status = 'clean' AND d.promotion_preset = e.promotion_preset AND d.checked_at >= ?) THEN 'DRIFT_GATE_UNMET'`)
        args.push(stringOrNull(payload.source_environment_id), stringOrNull(payload.source_environment_id), gateSince)
        break
      case 'backup_gate':
        whens.push(`WHEN NOT EXISTS (SELECT 1 FROM backups WHERE id = ? AND environment_id = ? AND backup_scope = 'full' AND status = 'completed'
          AND retention_until > ? AND completed_at >= ?) THEN 'BACKUP_GATE_UNMET'`)
        args.push(stringOrNull(payload.gate_backup_id), job.environment_id, now, gateSince)
        break
      case 'storage_configured':
        storage()
        break
      case 'storage_for_s3_source':
        if (typeof payload.source_ref === 'string' && payload.source_ref.startsWith('s3://')) storage()
        break
      case 'storage_for_db_restore':
        if (stringOrNull(payload.restore_db_backup_id)) storage()
        break
      case 'provider_configured':
        if (payload.mode === 'acquire') whens.push(`WHEN NOT EXISTS (SELECT 1 FROM settings WHERE key = 'hetzner_api_token') THEN 'PROVIDER_NOT_CONFIGURED'`)
        break
    }
  }
  return { sql: whens.length ? `CASE ${whens.join(' ')} ELSE NULL END` : 'NULL', args }
}
