// SQL for backups.
import type { Executor } from './db.js'
import { queryOne, run } from './db.js'
import { selectPage, type Page, type PageRequest } from './pagination.js'
import type { BackupScope, BackupStatus } from '../contracts/enums.js'

export interface BackupRow {
  id: string; environment_id: string; backup_scope: BackupScope; status: BackupStatus; storage_type: 's3'
  storage_path: string; retention_until: string; checksum: string | null; size_bytes: number | null
  created_at: string; completed_at: string | null
}

export async function insertBackup(ex: Executor, backup: Pick<BackupRow, 'id' | 'environment_id' | 'backup_scope' | 'storage_path' | 'retention_until' | 'created_at'>): Promise<void> {
  await run(ex, `INSERT INTO backups (id, environment_id, backup_scope, status, storage_type, storage_path, retention_until, created_at)
    VALUES (?, ?, ?, 'pending', 's3', ?, ?, ?)`, [
    backup.id, backup.environment_id, backup.backup_scope, backup.storage_path, backup.retention_until, backup.created_at,
  ])
}

export async function findBackup(ex: Executor, id: string): Promise<BackupRow | undefined> {
  return queryOne<BackupRow>(ex, 'SELECT * FROM backups WHERE id = ?', [id])
}

export async function listBackupsOfEnvironment(ex: Executor, environmentId: string, page: PageRequest): Promise<Page<BackupRow>> {
  return selectPage<BackupRow>(ex, { from: 'backups', where: ['environment_id = ?'], args: [environmentId] }, page)
}

/**
 * A fresh full backup that still shows the environment as it is: no other job of the environment was accepted or
 * finished after it completed (a job that was cancelled before it ever started changed nothing, nor did one that failed
 * with one of `unchangedCodes`, the error codes whose class promises an untouched node). Rolling back an update to an
 * older backup would also undo whatever ran in between, and leave files and database out of step.
 */
export async function findReusablePreOperationBackup(
  ex: Executor, environmentId: string, completedSince: string, now: string, unchangedCodes: readonly string[],
): Promise<BackupRow | undefined> {
  return queryOne<BackupRow>(ex, `SELECT * FROM backups b
    WHERE b.environment_id = ? AND b.backup_scope = 'full' AND b.status = 'completed' AND b.retention_until > ? AND b.completed_at >= ?
      AND NOT EXISTS (SELECT 1 FROM jobs j WHERE j.environment_id = b.environment_id AND j.job_type <> 'backup_create'
        AND NOT (j.status = 'cancelled' AND j.started_at IS NULL)
        AND NOT (j.status = 'failed' AND j.error_code IN (SELECT value FROM json_each(?)))
        AND (j.created_at > b.completed_at OR j.finished_at > b.completed_at))
    ORDER BY b.completed_at DESC, b.id DESC LIMIT 1`, [environmentId, now, completedSince, JSON.stringify(unchangedCodes)])
}

/** Newest usable full backup of the environment completed at or after `completedSince` (pre-operation reuse, backup gate). */
export async function findFreshFullBackup(ex: Executor, environmentId: string, completedSince: string, now: string): Promise<BackupRow | undefined> {
  return queryOne<BackupRow>(ex, `SELECT * FROM backups
    WHERE environment_id = ? AND backup_scope = 'full' AND status = 'completed' AND retention_until > ? AND completed_at >= ?
    ORDER BY completed_at DESC, id DESC LIMIT 1`, [environmentId, now, completedSince])
}
