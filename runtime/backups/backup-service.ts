// Backups of an environment: list, and manual backup_create requests.
import type { Db } from '../store/db.js'
import { inTransaction } from '../store/db.js'
import { listBackupsOfEnvironment, type BackupRow } from '../store/backups.js'
import { pageRequest, mapPage, type Page } from '../store/pagination.js'
import type { Config } from '../config.js'
import type { JobControl } from '../jobs/job-control.js'
import type { SettingsService } from '../settings/settings-service.js'
import type { Actor } from '../auth/auth-service.js'
import type { BackupScope } from '../contracts/enums.js'
import { acceptJob } from '../jobs/accept-job.js'
import { loadEnvironment, loadNodeOf, requireEnvironmentActive, requireNodeActive, requireBackupStorage } from '../resources/guards.js'
import { insertPendingBackup } from './backup-jobs.js'

export function backupView(row: BackupRow) {
  return {
    id: row.id, environment_id: row.environment_id, backup_scope: row.backup_scope, status: row.status,
    storage_type: row.storage_type, storage_path: row.storage_path, retention_until: row.retention_until,
    checksum: row.checksum, size_bytes: row.size_bytes, created_at: row.created_at, completed_at: row.completed_at,
  }
}
export type BackupView = ReturnType<typeof backupView>

export class BackupService {
  constructor(private readonly db: Db, private readonly config: Config, private readonly settings: SettingsService, private readonly jobControl: () => JobControl) {}

  async listOfEnvironment(envId: string, query: { limit?: number; cursor?: string }): Promise<Page<BackupView>> {
    const env = await loadEnvironment(this.db, envId)
    return mapPage(await listBackupsOfEnvironment(this.db, env.id, pageRequest(query)), backupView)
  }

  /** A `pending` backup row and its backup_create job (purpose manual). */
  async create(envId: string, input: { backup_scope: BackupScope }, actor: Actor): Promise<{ job_id: string }> {
    const jobId = await inTransaction(this.db, async (tx) => {
      const env = await loadEnvironment(tx, envId)
      requireEnvironmentActive(env)
      requireNodeActive(await loadNodeOf(tx, env))
      const settings = await this.settings.snapshot(tx)
      requireBackupStorage(settings.backupStorageConfigured)
      const backupId = await insertPendingBackup(tx, env, input.backup_scope, settings)
      return acceptJob(tx, actor, this.config.maxAttempts, {
        job_type: 'backup_create', site_id: env.site_id, environment_id: env.id, node_id: env.node_id,
        payload: { backup_id: backupId, purpose: 'manual' }, resource: { type: 'backup', id: backupId },
        details: { environment_id: env.id, backup_scope: input.backup_scope },
      })
    })
    this.jobControl().wake()
    return { job_id: jobId }
  }
}
