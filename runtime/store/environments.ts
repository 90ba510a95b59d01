// SQL for environments, and the job lookups that are keyed by an environment.
import type { Executor } from './db.js'
import { queryAll, queryOne, run } from './db.js'
import { selectPage, type Page, type PageRequest } from './pagination.js'
import type { EnvironmentStatus, EnvironmentType, PromotionPreset, DriftStatus } from '../contracts/enums.js'

export interface EnvironmentRow {
  id: string; site_id: string; name: string; slug: string; environment_type: EnvironmentType; status: EnvironmentStatus
  node_id: string; source_environment_id: string | null; promotion_preset: PromotionPreset; preview_url: string
  primary_domain_id: string | null; current_release_id: string | null; drift_status: DriftStatus
  drift_checked_at: string | null; last_drift_check_id: string | null; drift_differences_json: string | null
  fastcgi_cache_enabled: number; redis_cache_enabled: number
  /** HTTP basic auth as the operator set it (migration 0009); the password hash is a `secret:<name>` reference. */
  basic_auth_enabled: number; basic_auth_username: string | null; basic_auth_password_ref: string | null
  created_at: string; updated_at: string; state_version: number
}

export type NewEnvironment = Pick<EnvironmentRow, 'id' | 'site_id' | 'name' | 'slug' | 'environment_type' | 'status' | 'node_id'
  | 'source_environment_id' | 'promotion_preset' | 'preview_url' | 'created_at' | 'updated_at'>

export async function insertEnvironment(ex: Executor, env: NewEnvironment): Promise<void> {
  await run(ex, `INSERT INTO environments (id, site_id, name, slug, environment_type, status, node_id, source_environment_id,
      promotion_preset, preview_url, created_at, updated_at)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, [
    env.id, env.site_id, env.name, env.slug, env.environment_type, env.status, env.node_id, env.source_environment_id,
    env.promotion_preset, env.preview_url, env.created_at, env.updated_at,
  ])
}

export async function findEnvironment(ex: Executor, id: string): Promise<EnvironmentRow | undefined> {
  return queryOne<EnvironmentRow>(ex, 'SELECT * FROM environments WHERE id = ?', [id])
}

export async function findEnvironmentBySlug(ex: Executor, siteId: string, slug: string): Promise<EnvironmentRow | undefined> {
  return queryOne<EnvironmentRow>(ex, 'SELECT * FROM environments WHERE site_id = ? AND slug = ?', [siteId, slug])
}

export async function findProductionEnvironment(ex: Executor, siteId: string): Promise<EnvironmentRow | undefined> {
  return queryOne<EnvironmentRow>(ex, "SELECT * FROM environments WHERE site_id = ? AND environment_type = 'production'", [siteId])
}

export async function listEnvironmentsOfSite(ex: Executor, siteId: string, page: PageRequest): Promise<Page<EnvironmentRow>> {
  return selectPage<EnvironmentRow>(ex, { from: 'environments', where: ['site_id = ?'], args: [siteId] }, page)
}

export async function environmentsOfSite(ex: Executor, siteId: string): Promise<EnvironmentRow[]> {
  return queryAll<EnvironmentRow>(ex, 'SELECT * FROM environments WHERE site_id = ? ORDER BY created_at', [siteId])
}

/** uuid8 names node-side resources, so a new id must not share its first 8 hex chars with an existing one. */
export async function uuid8Taken(ex: Executor, uuid8: string): Promise<boolean> {
  return (await queryOne(ex, 'SELECT 1 AS taken FROM environments WHERE substr(id, 1, 8) = ?', [uuid8])) !== undefined
}

/** Optimistic status change: 0 when the row moved on since it was read. */
export async function updateEnvironmentStatus(ex: Executor, id: string, expectedVersion: number, status: EnvironmentStatus, now: string): Promise<number> {
  return run(ex, `UPDATE environments SET status = ?, updated_at = ?, state_version = state_version + 1
    WHERE id = ? AND state_version = ?`, [status, now, id, expectedVersion])
}

/** Optimistic change of the basic auth setting: 0 when the row moved on since it was read. */
export async function updateEnvironmentBasicAuth(ex: Executor, id: string, expectedVersion: number,
  auth: { enabled: boolean; username: string | null; password_ref: string | null }, now: string): Promise<number> {
  return run(ex, `UPDATE environments SET basic_auth_enabled = ?, basic_auth_username = ?, basic_auth_password_ref = ?, updated_at = ?,
      state_version = state_version + 1
    WHERE id = ? AND state_version = ?`, [auth.enabled ? 1 : 0, auth.username, auth.password_ref, now, id, expectedVersion])
}

/** A job of this type for the environment in one of the given statuses (idempotent re-requests). */
export async function findJobOfEnvironment(ex: Executor, environmentId: string, jobType: string, statuses: string[]): Promise<{ id: string } | undefined> {
  return queryOne<{ id: string }>(ex, `SELECT id FROM jobs WHERE environment_id = ? AND job_type = ?
      AND status IN (${statuses.map(() => '?').join(', ')}) ORDER BY created_at, id LIMIT 1`,
  [environmentId, jobType, ...statuses])
}
