// A pending backup row with its backup_create job, for manual backups and pre-operation backups alike.
import crypto from 'node:crypto'
import type { Executor } from '../store/db.js'
import { insertBackup, findReusablePreOperationBackup } from '../store/backups.js'
import type { EnvironmentRow } from '../store/environments.js'
import type { SettingsSnapshot } from '../settings/settings-service.js'
import type { BackupScope } from '../contracts/enums.js'
import type { Actor } from '../auth/auth-service.js'
import { insertRequestedJob } from '../jobs/accept-job.js'
import { NODE_UNCHANGED_CODES } from '../jobs/outcomes.js'
import { nowIso, isoPlus } from '../clock.js'

export type BackupPurpose = 'manual' | 'pre_update' | 'pre_restore' | 'pre_import'

const DAY_MS = 24 * 60 * 60 * 1000

export function backupStoragePath(bucket: string, env: Pick<EnvironmentRow, 'site_id' | 'id'>, backupId: string): string {
  return `s3://${bucket}/pressluft/${env.site_id}/${env.id}/${backupId}/`
}

/** Inserts the pending backup row (retention fixed at creation) and returns its id. */
export async function insertPendingBackup(tx: Executor, env: EnvironmentRow, scope: BackupScope, settings: SettingsSnapshot): Promise<string> {
  const id = crypto.randomUUID()
  const now = nowIso()
  await insertBackup(tx, {
    id, environment_id: env.id, backup_scope: scope, created_at: now,
    storage_path: backupStoragePath(settings.backup_s3_bucket!, env, id),
    retention_until: isoPlus(now, settings.backup_retention_days * DAY_MS),
  })
  return id
}

export interface PreOperationBackup {
  pre_backup_id: string
  /** The backup_create job inserted for it; null when a fresh backup was reused. */
  pre_backup_job_id: string | null
}

/**
 * Pre-operation backup (docs/architecture.md "Follow-ups, pre-operation backups, promotion gates"): reuse a usable full backup of the environment completed within the gate
 * window after which no other job of the environment was accepted or finished, else insert a pending full backup and its backup_create job (before the dependent job).
 */
export async function ensurePreOperationBackup(tx: Executor, input: {
  env: EnvironmentRow; purpose: Exclude<BackupPurpose, 'manual'>; settings: SettingsSnapshot; actor: Actor
  maxAttempts: number; gateFreshnessMinutes: number
}): Promise<PreOperationBackup> {
  const now = nowIso()
  const fresh = await findReusablePreOperationBackup(tx, input.env.id, isoPlus(now, -input.gateFreshnessMinutes * 60_000), now, NODE_UNCHANGED_CODES)
  if (fresh) return { pre_backup_id: fresh.id, pre_backup_job_id: null }
  const backupId = await insertPendingBackup(tx, input.env, 'full', input.settings)
  const jobId = await insertRequestedJob(tx, input.actor, input.maxAttempts, {
    job_type: 'backup_create', site_id: input.env.site_id, environment_id: input.env.id, node_id: input.env.node_id,
    payload: { backup_id: backupId, purpose: input.purpose },
  })
  return { pre_backup_id: backupId, pre_backup_job_id: jobId }
}
