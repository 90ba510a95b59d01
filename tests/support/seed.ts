// Small SQL fixtures for API tests: the effects of jobs that no runner executes in-process (node active, site built, backups done).
import crypto from 'node:crypto'
import { expect } from 'vitest'
import { createTestControlPlane, type TestControlPlane } from './control-plane.js'
import { queryAll, queryOne } from '../../runtime/store/db.js'

export const BACKUP_SETTINGS = {
  backup_s3_endpoint: 'http://127.0.0.1:9000',
  backup_s3_bucket: 'pressluft-backups',
  backup_s3_access_key_id: 'test-access-key',
  backup_s3_secret_access_key: 'test-secret-key-value',
}

let clock = Date.parse('2026-01-01T00:00:00.000Z')
/** Distinct, increasing timestamps for fixture rows, so list order is deterministic. */
function fixtureTime(): string {
  clock += 1000
  return new Date(clock).toISOString()
}

/** An active node row, as if node_provision had succeeded. */
export async function insertActiveNode(cp: TestControlPlane, fields: Partial<{ name: string; hostname: string; public_ip: string; ssh_port: number; status: string; created_at: string }> = {}): Promise<string> {
  const id = crypto.randomUUID()
  const now = fields.created_at ?? fixtureTime()
  await cp.services.db.execute({
    sql: `INSERT INTO nodes (id, name, hostname, public_ip, ssh_port, ssh_user, status, is_local, provider, created_at, updated_at)
      VALUES (?, ?, ?, ?, ?, 'root', ?, 0, NULL, ?, ?)`,
    args: [id, fields.name ?? `node-${id.slice(0, 8)}`, fields.hostname ?? '192.0.2.10', fields.public_ip ?? '192.0.2.10',
      fields.ssh_port ?? 22, fields.status ?? 'active', now, now],
  })
  return id
}

/** Marks every queued job of the given environment succeeded (the runner is not part of API tests). */
export async function finishJobsOf(cp: TestControlPlane, environmentId: string): Promise<void> {
  await cp.services.db.execute({ sql: "UPDATE jobs SET status = 'succeeded', finished_at = ? WHERE environment_id = ? AND status IN ('queued', 'running')", args: [fixtureTime(), environmentId] })
}

/** The effects of a successful site_create/env_create: a current release and status active. */
export async function completeEnvironment(cp: TestControlPlane, environmentId: string): Promise<string> {
  const releaseId = crypto.randomUUID()
  const db = cp.services.db
  await db.execute({ sql: `INSERT INTO releases (id, environment_id, source_type, source_ref, path, created_at)
    VALUES (?, ?, 'upload', 'wordpress-core', '/var/www/sites/x/releases/1', ?)`, args: [releaseId, environmentId, fixtureTime()] })
  await db.execute({ sql: "UPDATE environments SET status = 'active', current_release_id = ?, state_version = state_version + 1 WHERE id = ?", args: [releaseId, environmentId] })
  const env = await queryOne<{ site_id: string }>(db, 'SELECT site_id FROM environments WHERE id = ?', [environmentId])
  await db.execute({ sql: "UPDATE sites SET status = 'active', state_version = state_version + 1 WHERE id = ?", args: [env!.site_id] })
  await finishJobsOf(cp, environmentId)
  return releaseId
}

export interface SeededSite { siteId: string; productionId: string; nodeId: string; jobId: string }

/** A site created through the API and completed as if site_create had succeeded. */
export async function createActiveSite(cp: TestControlPlane, slug: string, nodeId?: string): Promise<SeededSite> {
  const res = await cp.request('POST', '/api/sites', { name: `Site ${slug}`, slug, ...(nodeId ? { node_id: nodeId } : {}) })
  expect(res.status).toBe(202)
  const { job_id: jobId } = await res.json()
  const site = await queryOne<{ id: string; primary_environment_id: string }>(cp.services.db, 'SELECT * FROM sites WHERE slug = ?', [slug])
  const env = await queryOne<{ node_id: string }>(cp.services.db, 'SELECT node_id FROM environments WHERE id = ?', [site!.primary_environment_id])
  await completeEnvironment(cp, site!.primary_environment_id)
  return { siteId: site!.id, productionId: site!.primary_environment_id, nodeId: env!.node_id, jobId }
}

/** A staging environment cloned through the API and completed as if env_create had succeeded. */
/** A signed-in control plane with one active node and one active site `shop`: the common starting point of API tests. */
export async function startWithActiveSite(nodeFields: Parameters<typeof insertActiveNode>[1] = {}): Promise<{ cp: TestControlPlane; site: SeededSite }> {
  const cp = await createTestControlPlane()
  await cp.login()
  await insertActiveNode(cp, nodeFields)
  return { cp, site: await createActiveSite(cp, 'shop') }
}

export async function createActiveStaging(cp: TestControlPlane, site: SeededSite, slug = 'staging'): Promise<string> {
  const res = await cp.request('POST', `/api/sites/${site.siteId}/environments`, {
    name: `Env ${slug}`, slug, type: 'staging', source_environment_id: site.productionId, promotion_preset: 'content-protect',
  })
  expect(res.status).toBe(202)
  const row = await queryOne<{ id: string }>(cp.services.db, 'SELECT id FROM environments WHERE site_id = ? AND slug = ?', [site.siteId, slug])
  await completeEnvironment(cp, row!.id)
  return row!.id
}

export async function configureBackupStorage(cp: TestControlPlane): Promise<void> {
  const res = await cp.request('PATCH', '/_admin/settings', BACKUP_SETTINGS)
  expect(res.status).toBe(200)
}

/** A backup row in any state; completed backups get a checksum and completed_at (default: just now). */
export async function insertBackupRow(cp: TestControlPlane, environmentId: string, fields: Partial<{ status: string; backup_scope: string; completed_at: string | null; retention_until: string }> = {}): Promise<string> {
  const id = crypto.randomUUID()
  const status = fields.status ?? 'completed'
  const completedAt = fields.completed_at !== undefined ? fields.completed_at : (status === 'completed' ? new Date().toISOString() : null)
  await cp.services.db.execute({
    sql: `INSERT INTO backups (id, environment_id, backup_scope, status, storage_type, storage_path, retention_until, checksum, size_bytes, created_at, completed_at)
      VALUES (?, ?, ?, ?, 's3', ?, ?, ?, ?, ?, ?)`,
    args: [id, environmentId, fields.backup_scope ?? 'full', status, `s3://pressluft-backups/pressluft/x/${environmentId}/${id}/`,
      fields.retention_until ?? new Date(Date.now() + 30 * 86400_000).toISOString(), status === 'completed' ? 'sha256:00' : null,
      status === 'completed' ? 1024 : null, completedAt ?? fixtureTime(), completedAt],
  })
  return id
}

export async function insertDriftCheck(cp: TestControlPlane, environmentId: string, fields: Partial<{ status: string; kind: string; promotion_preset: string; checked_at: string }> = {}): Promise<string> {
  const id = crypto.randomUUID()
  await cp.services.db.execute({
    sql: `INSERT INTO drift_checks (id, environment_id, kind, promotion_preset, status, checked_at) VALUES (?, ?, ?, ?, ?, ?)`,
    args: [id, environmentId, fields.kind ?? 'check', fields.promotion_preset ?? 'content-protect', fields.status ?? 'clean', fields.checked_at ?? new Date().toISOString()],
  })
  return id
}

export interface JobRow { id: string; job_type: string; status: string; site_id: string | null; environment_id: string | null; node_id: string | null; requested_by: string | null; payload_json: string; max_attempts: number; created_at: string }
export interface AuditRow { action: string; resource_type: string; resource_id: string; result: string; job_id: string | null; details_json: string | null; user_id: string }

export async function jobById(cp: TestControlPlane, id: string): Promise<JobRow & { payload: Record<string, unknown> }> {
  const row = await queryOne<JobRow>(cp.services.db, 'SELECT * FROM jobs WHERE id = ?', [id])
  expect(row, `job ${id}`).toBeDefined()
  return { ...row!, payload: JSON.parse(row!.payload_json) }
}

export async function jobsOfType(cp: TestControlPlane, jobType: string): Promise<JobRow[]> {
  return queryAll<JobRow>(cp.services.db, 'SELECT * FROM jobs WHERE job_type = ? ORDER BY created_at, id', [jobType])
}

export async function auditsFor(cp: TestControlPlane, action: string): Promise<(AuditRow & { details: Record<string, unknown> | null })[]> {
  const rows = await queryAll<AuditRow>(cp.services.db, 'SELECT * FROM audit_logs WHERE action = ? ORDER BY created_at, id', [action])
  return rows.map((row) => ({ ...row, details: row.details_json ? JSON.parse(row.details_json) : null }))
}

export async function count(cp: TestControlPlane, table: string, where = '1 = 1', args: unknown[] = []): Promise<number> {
  return (await queryOne<{ n: number }>(cp.services.db, `SELECT COUNT(*) AS n FROM ${table} WHERE ${where}`, args))!.n
}

export async function row<T>(cp: TestControlPlane, sql: string, args: unknown[] = []): Promise<T> {
  const found = await queryOne<T>(cp.services.db, sql, args)
  expect(found, sql).toBeDefined()
  return found!
}

/** Expects an error response with the given status and code; returns its body. */
export async function expectError(res: Response, status: number, code: string): Promise<{ code: string; message: string; details?: Record<string, any> }> {
  const body = await res.json()
  expect({ status: res.status, code: body.code }, JSON.stringify(body)).toEqual({ status, code })
  expect(typeof body.message).toBe('string')
  return body
}

/** Asserts list order: created_at DESC, then id DESC. */
export function expectNewestFirst(items: { id: string; created_at: string }[]): void {
  const sorted = [...items].sort((a, b) => (a.created_at === b.created_at ? b.id.localeCompare(a.id) : b.created_at.localeCompare(a.created_at)))
  expect(items.map((i) => i.id)).toEqual(sorted.map((i) => i.id))
}
