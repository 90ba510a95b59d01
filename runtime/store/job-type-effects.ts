// The SQL effects particular to some job types, as named functions their modules (runtime/jobs/types/) call.
// Each statement is guarded by the job's own completion write (job-guard.ts).
import crypto from 'node:crypto'
import type { InStatement } from '@libsql/client'
import { stmt, type Guard } from './job-guard.js'

export interface NewRelease {
  id: string
  environmentId: string
  sourceType: 'git' | 'upload'
  sourceRef: string
  path: string
  health: 'unknown' | 'healthy'
  notes: string | null
}

/** Inserts the job's release (once: its id derives from the job id) and makes it the environment's current release. */
export function insertCurrentRelease(release: NewRelease, at: string, guard: Guard): InStatement[] {
  return [
    stmt(`INSERT INTO releases (id, environment_id, source_type, source_ref, path, health_status, notes, created_at)
      SELECT ?, ?, ?, ?, ?, ?, ?, ? WHERE ${guard.sql} AND NOT EXISTS (SELECT 1 FROM releases WHERE id = ?)`,
    [release.id, release.environmentId, release.sourceType, release.sourceRef, release.path, release.health, release.notes, at, ...guard.args, release.id]),
    stmt(`UPDATE environments SET current_release_id = ?, state_version = state_version + 1, updated_at = ? WHERE id = ? AND ${guard.sql}`,
      [release.id, at, release.environmentId, ...guard.args]),
  ]
}

export function setReleaseHealth(releaseId: string, health: 'healthy' | 'unhealthy', guard: Guard): InStatement[] {
  return [stmt(`UPDATE releases SET health_status = ? WHERE id = ? AND ${guard.sql}`, [health, releaseId, ...guard.args])]
}

/** release_rollback: the target becomes current, if it is a release of that environment. */
export function rollBackCurrentRelease(environmentId: string | null, toReleaseId: string, at: string, guard: Guard): InStatement[] {
  return [stmt(`UPDATE environments SET current_release_id = ?, state_version = state_version + 1, updated_at = ?
      WHERE id = ? AND EXISTS (SELECT 1 FROM releases WHERE id = ? AND environment_id = environments.id) AND ${guard.sql}`,
  [toReleaseId, at, environmentId, toReleaseId, ...guard.args])]
}

export interface DriftRow {
  environmentId: string
  kind: 'baseline' | 'check'
  promotionPreset: string
  status: 'clean' | 'drifted' | 'unknown'
  dbChecksumsJson: string
  fileChecksumsJson: string
  /** What differs from the baseline (compare-drift.ts), for checks that could compare. */
  differencesJson: string | null
}

/** A drift_checks row; a `check` also becomes the environment's drift status and differences. */
export function insertDriftRow(row: DriftRow, at: string, guard: Guard): InStatement[] {
  const id = crypto.randomUUID()
  const out = [stmt(`INSERT INTO drift_checks (id, environment_id, kind, promotion_preset, status, db_checksums_json, file_checksums_json, differences_json, checked_at)
    SELECT ?, ?, ?, ?, ?, ?, ?, ?, ? WHERE ${guard.sql}`,
  [id, row.environmentId, row.kind, row.promotionPreset, row.status, row.dbChecksumsJson, row.fileChecksumsJson, row.differencesJson, at, ...guard.args])]
  if (row.kind === 'check') {
    out.push(stmt(`UPDATE environments SET drift_status = ?, drift_checked_at = ?, last_drift_check_id = ?, drift_differences_json = ?,
      state_version = state_version + 1, updated_at = ? WHERE id = ? AND ${guard.sql}`, [row.status, at, id, row.differencesJson, at, row.environmentId, ...guard.args]))
  }
  return out
}

export function completeBackup(backupId: string, checksum: unknown, sizeBytes: unknown, at: string, guard: Guard): InStatement[] {
  return [stmt(`UPDATE backups SET status = 'completed', checksum = ?, size_bytes = ?, completed_at = ? WHERE id = ? AND status IN ('pending', 'running') AND ${guard.sql}`,
    [checksum, sizeBytes, at, backupId, ...guard.args])]
}

/** backup_cleanup: the backups whose objects the playbook deleted become expired. */
export function expireBackups(ids: readonly string[], guard: Guard): InStatement[] {
  if (!ids.length) return []
  return [stmt(`UPDATE backups SET status = 'expired' WHERE id IN (SELECT value FROM json_each(?)) AND status = 'completed' AND ${guard.sql}`,
    [JSON.stringify(ids), ...guard.args])]
}

/** domain_add: the domain is active, and primary if its environment had none. */
export function activateDomain(domainId: string, at: string, guard: Guard): InStatement[] {
  return [
    stmt(`UPDATE domains SET tls_status = 'active', updated_at = ? WHERE id = ? AND tls_status = 'pending' AND ${guard.sql}`, [at, domainId, ...guard.args]),
    stmt(`UPDATE environments SET primary_domain_id = ?, state_version = state_version + 1, updated_at = ?
      WHERE id = (SELECT environment_id FROM domains WHERE id = ?) AND primary_domain_id IS NULL AND ${guard.sql}`, [domainId, at, domainId, ...guard.args]),
  ]
}

/** domain_remove: the primary role moves to the oldest other active domain (or none), then the row goes. */
export function deleteDisabledDomain(domainId: string, at: string, guard: Guard): InStatement[] {
  return [
    stmt(`UPDATE environments SET primary_domain_id = (SELECT d.id FROM domains d WHERE d.environment_id = environments.id AND d.id <> ?
        AND d.tls_status = 'active' ORDER BY d.created_at, d.id LIMIT 1), state_version = state_version + 1, updated_at = ?
      WHERE primary_domain_id = ? AND ${guard.sql}`, [domainId, at, domainId, ...guard.args]),
    stmt(`DELETE FROM domains WHERE id = ? AND tls_status = 'disabled' AND ${guard.sql}`, [domainId, ...guard.args]),
  ]
}

/** env_cache_toggle: the applied flags; null keeps a flag as it is. */
export function setCacheFlags(environmentId: string | null, fastcgi: boolean | null, redis: boolean | null, at: string, guard: Guard): InStatement[] {
  const flag = (value: boolean | null) => value === null ? null : value ? 1 : 0
  return [stmt(`UPDATE environments SET fastcgi_cache_enabled = COALESCE(?, fastcgi_cache_enabled), redis_cache_enabled = COALESCE(?, redis_cache_enabled),
      state_version = state_version + 1, updated_at = ? WHERE id = ? AND ${guard.sql}`,
  [flag(fastcgi), flag(redis), at, environmentId, ...guard.args])]
}
