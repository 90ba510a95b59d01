// SQL for the resource transitions jobs cause (start, success, failure, cancel), each statement guarded by the job's own write.
import crypto from 'node:crypto'
import type { InStatement } from '@libsql/client'
import type { Executor } from './db.js'
import { queryOne } from './db.js'
import type { FailureChange, JobTypeSpec, ResourceRef, StatusChange } from '../jobs/registry.js'
import type { JobRow } from './jobs.js'
import { BACKUP_STORAGE_CONFIGURED_SQL } from './settings-sql.js'
import { compareDrift, parseChecksumsJson } from '../drift/compare-drift.js'
import { protectedSet } from '../drift/presets.js'

/**
 * Guard appended to every effect statement: the job row carries the status and updated_at this write gave it.
 * The engine's timestamps are unique per process (runtime/jobs/job-clock.ts), so a guard matches exactly one write;
 * when the job write matched no row (an admin cancelled it first) every effect of the batch is a no-op.
 */
export interface Guard { sql: string; args: unknown[] }

export function jobGuard(jobId: string, status: string, at: string): Guard {
  return { sql: 'EXISTS (SELECT 1 FROM jobs WHERE id = ? AND status = ? AND updated_at = ?)', args: [jobId, status, at] }
}

function stmt(sql: string, args: unknown[]): InStatement {
  return { sql, args: args as never }
}

export function payloadOf(job: Pick<JobRow, 'payload_json'>): Record<string, unknown> {
  try {
    const value: unknown = JSON.parse(job.payload_json)
    return value && typeof value === 'object' && !Array.isArray(value) ? value as Record<string, unknown> : {}
  } catch {
    return {}
  }
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

function stringOrNull(value: unknown): string | null {
  return typeof value === 'string' && value !== '' ? value : null
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

/** Start transition of the claim: pre-existing resources enter their in-progress state (idempotent on retries). */
export function startStatements(job: JobRow, spec: JobTypeSpec, at: string, guard: Guard): InStatement[] {
  return spec.start.flatMap((change) => statusChange(job, change, at, guard))
}

export function retryStatements(job: JobRow, spec: JobTypeSpec, at: string, guard: Guard): InStatement[] {
  return spec.retry.flatMap((change) => statusChange(job, change, at, guard))
}

export interface FailureInput {
  code: string
  /** The job had started (an attempt's start transition ran), so it may have moved pre-existing resources. */
  started: boolean
  precondition: boolean
  /** Only for health_check: the data its HEALTH_CHECK_FAILED follow-up needs. */
  healthCheck?: { followUpId: string; maxAttempts: number }
}

/** Final failure and cancel effects (spec/jobs.md "Resource effects", spec/state-machines.md "Cancel rules"). */
export function failureStatements(job: JobRow, spec: JobTypeSpec, input: FailureInput, at: string, guard: Guard): InStatement[] {
  const out: InStatement[] = []
  if (spec.healthCheckFailure && input.code === 'HEALTH_CHECK_FAILED' && input.healthCheck) {
    out.push(...healthCheckFailed(job, input.healthCheck, at, guard))
  } else if (input.precondition) {
    // Nothing changed on the node: rows created for the job still fail, moved pre-existing resources return to active.
    for (const change of spec.failure) if (change.always) out.push(...statusChange(job, change, at, guard))
    if (input.started) for (const change of spec.start) out.push(...statusChange(job, { resource: change.resource, from: [change.to], to: change.from[0] }, at, guard))
  } else {
    for (const change of spec.failure as FailureChange[]) if (change.always || input.started) out.push(...statusChange(job, change, at, guard))
  }
  if (input.code === 'ANSIBLE_HOST_UNREACHABLE') out.push(...statusChange(job, { resource: 'node', from: ['active'], to: 'unreachable' }, at, guard))
  return out
}

function healthCheckFailed(job: JobRow, followUp: { followUpId: string; maxAttempts: number }, at: string, guard: Guard): InStatement[] {
  const payload = payloadOf(job)
  const releaseId = stringOrNull(payload.release_id)
  const previous = stringOrNull(payload.previous_release_id)
  const out: InStatement[] = []
  if (releaseId) out.push(stmt(`UPDATE releases SET health_status = 'unhealthy' WHERE id = ? AND ${guard.sql}`, [releaseId, ...guard.args]))
  if (previous) {
    out.push(insertFollowUp(job, followUp.followUpId, 'release_rollback', {
      failed_release_id: releaseId, to_release_id: previous, restore_db_backup_id: stringOrNull(payload.rollback_backup_id),
    }, followUp.maxAttempts, at, guard))
  } else {
    for (const resource of ['environment', 'site'] as const) {
      out.push(...statusChange(job, { resource, from: ['cloning', 'deploying', 'restoring'], to: 'failed' }, at, guard))
    }
  }
  return out
}

export function insertFollowUp(parent: JobRow, id: string, type: string, payload: Record<string, unknown>, maxAttempts: number, at: string, guard: Guard): InStatement {
  return stmt(`INSERT INTO jobs (id, job_type, status, site_id, environment_id, node_id, parent_job_id, requested_by,
      payload_json, attempt_count, max_attempts, created_at, updated_at)
    SELECT ?, ?, 'queued', ?, ?, ?, ?, ?, ?, 0, ?, ?, ? WHERE ${guard.sql}`, [
    id, type, parent.site_id, parent.environment_id, parent.node_id, parent.id, parent.requested_by,
    JSON.stringify(payload), maxAttempts, at, at, ...guard.args,
  ])
}

/** Completion audit row (`<job_type>`, succeeded/failed/cancelled) for jobs an admin's request created. */
export function completionAudit(job: JobRow, spec: JobTypeSpec, result: 'succeeded' | 'failed' | 'cancelled', at: string, guard: Guard, details?: Record<string, unknown>): InStatement[] {
  const resource = resourceId(job, spec.audit)
  if (!job.requested_by || !resource) return []
  return [auditStatement(job.requested_by, job.job_type, spec.audit, resource, result, job.id, details ?? null, at, guard)]
}

export function auditStatement(userId: string, action: string, resourceType: string, resourceId: string, result: string, jobId: string | null,
  details: Record<string, unknown> | null, at: string, guard: Guard): InStatement {
  return stmt(`INSERT INTO audit_logs (id, user_id, action, resource_type, resource_id, result, job_id, details_json, created_at)
    SELECT ?, ?, ?, ?, ?, ?, ?, ?, ? WHERE ${guard.sql}`, [
    crypto.randomUUID(), userId, action, resourceType, resourceId, result, jobId, details ? JSON.stringify(details) : null, at, ...guard.args,
  ])
}

// ---- success ----

/** What success effects read before the completion batch (one job per site runs, so it cannot change meanwhile). */
export interface SuccessContext {
  env: { id: string; site_id: string; slug: string; current_release_id: string | null; promotion_preset: string } | null
  backupScope: string | null
  baseline: { db_checksums_json: string | null; file_checksums_json: string | null } | null
}

export async function loadSuccessContext(ex: Executor, job: JobRow, spec: JobTypeSpec): Promise<SuccessContext> {
  const needsEnv = spec.success.some((e) => e === 'release_current' || e === 'health_check_follow_up' || e === 'drift_check_row' || e === 'baseline_drift_row')
  const env = needsEnv && job.environment_id
    ? await queryOne<SuccessContext['env'] & object>(ex, 'SELECT id, site_id, slug, current_release_id, promotion_preset FROM environments WHERE id = ?', [job.environment_id]) ?? null
    : null
  const payload = payloadOf(job)
  const backupScope = job.job_type === 'env_restore' && typeof payload.backup_id === 'string'
    ? (await queryOne<{ backup_scope: string }>(ex, 'SELECT backup_scope FROM backups WHERE id = ?', [payload.backup_id]))?.backup_scope ?? null
    : null
  const baseline = spec.success.includes('drift_check_row') && job.environment_id
    ? await queryOne<NonNullable<SuccessContext['baseline']>>(ex, `SELECT db_checksums_json, file_checksums_json FROM drift_checks
        WHERE environment_id = ? AND kind = 'baseline' ORDER BY checked_at DESC, id DESC LIMIT 1`, [job.environment_id]) ?? null
    : null
  return { env, backupScope, baseline }
}

export interface SuccessInput {
  result: Record<string, unknown> | null
  /** backup_cleanup: the backups whose objects the playbook deleted. */
  expiredBackupIds?: string[]
  followUpId: string
  maxAttempts: number
}

export function envRoot(siteId: string, slug: string): string {
  return `/var/www/sites/${siteId}/${slug}`
}

/** Release directory name = the job's created_at as YYYYMMDDHHMMSS, so retries converge on one directory. */
export function releaseStamp(createdAt: string): string {
  return createdAt.slice(0, 19).replace(/[-T:]/g, '')
}

/** The release a job creates has an id derived from the job id, so every attempt and the extra-vars agree on it. */
export function releaseIdFor(jobId: string): string {
  const hex = crypto.createHash('sha256').update(`pressluft-release:${jobId}`).digest('hex')
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-${(8 + (parseInt(hex[16], 16) & 3)).toString(16)}${hex.slice(17, 20)}-${hex.slice(20, 32)}`
}

function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`
  if (value && typeof value === 'object') {
    return `{${Object.keys(value).sort().map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`).join(',')}}`
  }
  return JSON.stringify(value ?? null)
}

export function successStatements(job: JobRow, spec: JobTypeSpec, ctx: SuccessContext, input: SuccessInput, at: string, guard: Guard): InStatement[] {
  const payload = payloadOf(job)
  const out: InStatement[] = []
  const newRelease = spec.release?.(payload, job.id, ctx.backupScope) ?? null
  const releaseId = newRelease ? releaseIdFor(job.id) : null
  for (const effect of spec.success) {
    if (typeof effect !== 'string') { out.push(...statusChange(job, effect, at, guard)); continue }
    switch (effect) {
      case 'release_current': {
        if (!newRelease || !releaseId || !ctx.env) break
        const path = `${envRoot(ctx.env.site_id, ctx.env.slug)}/releases/${releaseStamp(job.created_at)}`
        const notes = job.job_type === 'site_import' && input.result
          ? `imported from ${String(input.result.source_url)} (table prefix ${String(input.result.table_prefix)})` : null
        out.push(stmt(`INSERT INTO releases (id, environment_id, source_type, source_ref, path, health_status, notes, created_at)
          SELECT ?, ?, ?, ?, ?, ?, ?, ? WHERE ${guard.sql} AND NOT EXISTS (SELECT 1 FROM releases WHERE id = ?)`,
        [releaseId, ctx.env.id, newRelease.source_type, newRelease.source_ref, path, newRelease.health ?? 'unknown', notes, at, ...guard.args, releaseId]))
        out.push(stmt(`UPDATE environments SET current_release_id = ?, state_version = state_version + 1, updated_at = ? WHERE id = ? AND ${guard.sql}`,
          [releaseId, at, ctx.env.id, ...guard.args]))
        break
      }
      case 'health_check_follow_up': {
        if (!ctx.env) break
        const rollbackBackup = stringOrNull(payload.pre_backup_id) ?? stringOrNull(payload.gate_backup_id)
        out.push(insertFollowUp(job, input.followUpId, 'health_check', {
          release_id: releaseId ?? ctx.env.current_release_id,
          // ctx.env is read before this batch switches current_release_id: it is the release current before the parent.
          previous_release_id: ctx.env.current_release_id,
          rollback_backup_id: job.job_type === 'env_deploy' ? null : rollbackBackup,
        }, input.maxAttempts, at, guard))
        break
      }
      case 'baseline_drift_row':
      case 'drift_check_row': {
        if (!ctx.env || !input.result) break
        const db = canonicalJson(input.result.db_checksums)
        const files = canonicalJson(input.result.file_checksums)
        const id = crypto.randomUUID()
        let status = 'clean'
        let differences: string | null = null
        if (effect === 'drift_check_row') {
          const baseline = ctx.baseline
            ? { db: parseChecksumsJson(ctx.baseline.db_checksums_json), files: parseChecksumsJson(ctx.baseline.file_checksums_json) } : null
          const compared = compareDrift(baseline, { db: parseChecksumsJson(db), files: parseChecksumsJson(files) }, protectedSet(ctx.env.promotion_preset))
          status = compared.status
          differences = compared.differences ? JSON.stringify(compared.differences) : null
        }
        out.push(stmt(`INSERT INTO drift_checks (id, environment_id, kind, promotion_preset, status, db_checksums_json, file_checksums_json, differences_json, checked_at)
          SELECT ?, ?, ?, ?, ?, ?, ?, ?, ? WHERE ${guard.sql}`,
        [id, ctx.env.id, effect === 'baseline_drift_row' ? 'baseline' : 'check', ctx.env.promotion_preset, status, db, files, differences, at, ...guard.args]))
        if (effect === 'drift_check_row') {
          out.push(stmt(`UPDATE environments SET drift_status = ?, drift_checked_at = ?, last_drift_check_id = ?, drift_differences_json = ?,
            state_version = state_version + 1, updated_at = ? WHERE id = ? AND ${guard.sql}`, [status, at, id, differences, at, ctx.env.id, ...guard.args]))
        }
        break
      }
      case 'backup_completed': {
        const id = resourceId(job, 'backup')
        if (!id || !input.result) break
        out.push(stmt(`UPDATE backups SET status = 'completed', checksum = ?, size_bytes = ?, completed_at = ? WHERE id = ? AND status IN ('pending', 'running') AND ${guard.sql}`,
          [input.result.checksum, input.result.size_bytes, at, id, ...guard.args]))
        break
      }
      case 'domain_active': {
        const id = resourceId(job, 'domain')
        if (!id) break
        out.push(stmt(`UPDATE domains SET tls_status = 'active', updated_at = ? WHERE id = ? AND tls_status = 'pending' AND ${guard.sql}`, [at, id, ...guard.args]))
        out.push(stmt(`UPDATE environments SET primary_domain_id = ?, state_version = state_version + 1, updated_at = ?
          WHERE id = (SELECT environment_id FROM domains WHERE id = ?) AND primary_domain_id IS NULL AND ${guard.sql}`, [id, at, id, ...guard.args]))
        break
      }
      case 'domain_removed': {
        const id = resourceId(job, 'domain')
        if (!id) break
        out.push(stmt(`UPDATE environments SET primary_domain_id = (SELECT d.id FROM domains d WHERE d.environment_id = environments.id AND d.id <> ?
            AND d.tls_status = 'active' ORDER BY d.created_at, d.id LIMIT 1), state_version = state_version + 1, updated_at = ?
          WHERE primary_domain_id = ? AND ${guard.sql}`, [id, at, id, ...guard.args]))
        out.push(stmt(`DELETE FROM domains WHERE id = ? AND tls_status = 'disabled' AND ${guard.sql}`, [id, ...guard.args]))
        break
      }
      case 'cache_flags': {
        const flag = (value: unknown) => typeof value === 'boolean' ? (value ? 1 : 0) : null
        out.push(stmt(`UPDATE environments SET fastcgi_cache_enabled = COALESCE(?, fastcgi_cache_enabled), redis_cache_enabled = COALESCE(?, redis_cache_enabled),
            state_version = state_version + 1, updated_at = ? WHERE id = ? AND ${guard.sql}`,
        [flag(payload.fastcgi_cache_enabled), flag(payload.redis_cache_enabled), at, job.environment_id, ...guard.args]))
        break
      }
      case 'release_healthy': {
        const id = stringOrNull(payload.release_id)
        if (id) out.push(stmt(`UPDATE releases SET health_status = 'healthy' WHERE id = ? AND ${guard.sql}`, [id, ...guard.args]))
        break
      }
      case 'rollback_current': {
        const to = stringOrNull(payload.to_release_id)
        if (to) {
          out.push(stmt(`UPDATE environments SET current_release_id = ?, state_version = state_version + 1, updated_at = ?
            WHERE id = ? AND EXISTS (SELECT 1 FROM releases WHERE id = ? AND environment_id = environments.id) AND ${guard.sql}`,
          [to, at, job.environment_id, to, ...guard.args]))
        }
        break
      }
      case 'backups_expired': {
        const ids = input.expiredBackupIds ?? []
        if (ids.length) {
          out.push(stmt(`UPDATE backups SET status = 'expired' WHERE id IN (SELECT value FROM json_each(?)) AND status = 'completed' AND ${guard.sql}`,
            [JSON.stringify(ids), ...guard.args]))
        }
        break
      }
    }
  }
  // Every successful job reached its node over SSH.
  if (job.node_id) {
    out.push(stmt(`UPDATE nodes SET last_seen_at = ?, state_version = state_version + 1, updated_at = ? WHERE id = ? AND ${guard.sql}`, [at, at, job.node_id, ...guard.args]))
  }
  return out
}

// ---- preconditions at start ----


/**
 * The precondition checks of spec/jobs.md for this job as one SQL CASE yielding the first failing error code or NULL,
 * evaluated inside the claim batch so the check and the start transition see the same state.
 */
export function preconditionCase(job: JobRow, spec: JobTypeSpec, now: string, gateSince: string): Guard {
  const payload = payloadOf(job)
  const whens: string[] = []
  const args: unknown[] = []
  const storage = () => { whens.push(`WHEN NOT ${BACKUP_STORAGE_CONFIGURED_SQL} THEN 'BACKUP_STORAGE_NOT_CONFIGURED'`) }
  for (const check of spec.preconditions) {
    switch (check) {
      case 'node_active':
        whens.push(`WHEN NOT EXISTS (SELECT 1 FROM nodes WHERE id = ? AND status = 'active') THEN 'NODE_NOT_ACTIVE'`)
        args.push(job.node_id)
        break
      case 'site_usable': {
        // A site this job moved on an earlier attempt is already in the job's in-progress state.
        const target = spec.start.find((c) => c.resource === 'site')?.to ?? 'active'
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
