// SQL reading what a job's inventory and extra-vars need: its node, site, environments, releases, backups, domain, settings.
import type { Executor } from './db.js'
import { queryAll, queryOne, run } from './db.js'

export interface NodeContext {
  id: string; name: string; hostname: string; public_ip: string | null; ssh_port: number; ssh_user: string; status: string
  is_local: number; provider: string | null; provider_server_id: string | null
}

export interface EnvContext {
  id: string; site_id: string; slug: string; environment_type: string; status: string; node_id: string; promotion_preset: string
  preview_url: string; primary_domain_id: string | null; current_release_id: string | null
  fastcgi_cache_enabled: number; redis_cache_enabled: number
  basic_auth_enabled: number; basic_auth_username: string | null; basic_auth_password_ref: string | null
  site_slug: string; site_name: string
  primary_domain_hostname: string | null
  current_release_path: string | null
}

export interface BackupContext { id: string; environment_id: string; backup_scope: string; status: string; storage_path: string; checksum: string | null }
export interface DomainContext { id: string; environment_id: string; hostname: string; tls_status: string; created_at: string }
export interface ReleaseContext { id: string; environment_id: string; path: string }
export interface BaselineContext { db_checksums_json: string | null; file_checksums_json: string | null }

export async function readNode(ex: Executor, id: string | null): Promise<NodeContext | undefined> {
  if (!id) return undefined
  return queryOne<NodeContext>(ex, `SELECT id, name, hostname, public_ip, ssh_port, ssh_user, status, is_local, provider, provider_server_id
    FROM nodes WHERE id = ?`, [id])
}

/** An environment with what its extra-vars derive from: site, primary domain, current and previous release paths. */
export async function readEnvironment(ex: Executor, id: string | null | undefined): Promise<EnvContext | undefined> {
  if (!id) return undefined
  return queryOne<EnvContext>(ex, `SELECT e.id, e.site_id, e.slug, e.environment_type, e.status, e.node_id, e.promotion_preset, e.preview_url,
      e.primary_domain_id, e.current_release_id, e.fastcgi_cache_enabled, e.redis_cache_enabled,
      e.basic_auth_enabled, e.basic_auth_username, e.basic_auth_password_ref, s.slug AS site_slug, s.name AS site_name,
      (SELECT d.hostname FROM domains d WHERE d.id = e.primary_domain_id) AS primary_domain_hostname,
      (SELECT r.path FROM releases r WHERE r.id = e.current_release_id) AS current_release_path
    FROM environments e JOIN sites s ON s.id = e.site_id WHERE e.id = ?`, [id])
}

export async function readProductionEnvironmentId(ex: Executor, siteId: string | null): Promise<string | undefined> {
  if (!siteId) return undefined
  return (await queryOne<{ id: string }>(ex, "SELECT id FROM environments WHERE site_id = ? AND environment_type = 'production'", [siteId]))?.id
}

export async function readBackup(ex: Executor, id: string | null): Promise<BackupContext | undefined> {
  if (!id) return undefined
  return queryOne<BackupContext>(ex, 'SELECT id, environment_id, backup_scope, status, storage_path, checksum FROM backups WHERE id = ?', [id])
}

export async function readDomain(ex: Executor, id: string | null): Promise<DomainContext | undefined> {
  if (!id) return undefined
  return queryOne<DomainContext>(ex, 'SELECT id, environment_id, hostname, tls_status, created_at FROM domains WHERE id = ?', [id])
}

/** After removing `domainId`, the oldest remaining active domain of its environment. */
export async function readNextPrimaryHostname(ex: Executor, environmentId: string, domainId: string): Promise<string | null> {
  const row = await queryOne<{ hostname: string }>(ex, `SELECT hostname FROM domains WHERE environment_id = ? AND id <> ? AND tls_status = 'active'
    ORDER BY created_at, id LIMIT 1`, [environmentId, domainId])
  return row?.hostname ?? null
}

export async function readRelease(ex: Executor, id: string | null): Promise<ReleaseContext | undefined> {
  if (!id) return undefined
  return queryOne<ReleaseContext>(ex, 'SELECT id, environment_id, path FROM releases WHERE id = ?', [id])
}

export async function readBaseline(ex: Executor, environmentId: string): Promise<BaselineContext | undefined> {
  return queryOne<BaselineContext>(ex, `SELECT db_checksums_json, file_checksums_json FROM drift_checks
    WHERE environment_id = ? AND kind = 'baseline' ORDER BY checked_at DESC, id DESC LIMIT 1`, [environmentId])
}

export async function readSettings(ex: Executor): Promise<Map<string, string>> {
  const rows = await queryAll<{ key: string; value: string }>(ex, 'SELECT key, value FROM settings')
  return new Map(rows.map((row) => [row.key, row.value]))
}

export async function readUserEmail(ex: Executor, userId: string | null): Promise<string | undefined> {
  if (!userId) return undefined
  return (await queryOne<{ email: string }>(ex, 'SELECT email FROM users WHERE id = ?', [userId]))?.email
}

/** backup_cleanup's selection at start: at most 500 completed backups past retention. */
export async function readExpiredBackups(ex: Executor, now: string): Promise<{ id: string; storage_path: string }[]> {
  // Never the newest completed backup of an environment, even past its retention: it may be the only restorable one.
  return queryAll(ex, `SELECT b.id, b.storage_path FROM backups b WHERE b.status = 'completed' AND b.retention_until <= ?
    AND b.id <> (SELECT n.id FROM backups n WHERE n.environment_id = b.environment_id AND n.status = 'completed'
      ORDER BY n.completed_at DESC, n.id DESC LIMIT 1)
    ORDER BY b.retention_until, b.id LIMIT 500`, [now])
}

// ---- provider acquisition writes (each its own transaction, docs/architecture.md "Provider acquisition") ----

export async function recordProviderServer(ex: Executor, nodeId: string, serverId: string, at: string): Promise<void> {
  await run(ex, `UPDATE nodes SET provider_server_id = ?, state_version = state_version + 1, updated_at = ?
    WHERE id = ? AND provider_server_id IS NULL`, [serverId, at, nodeId])
}

export async function recordAcquiredAddress(ex: Executor, nodeId: string, ipv4: string, at: string): Promise<void> {
  await run(ex, `UPDATE nodes SET hostname = ?, public_ip = ?, ssh_user = 'root', ssh_port = 22, state_version = state_version + 1, updated_at = ?
    WHERE id = ?`, [ipv4, ipv4, at, nodeId])
}
