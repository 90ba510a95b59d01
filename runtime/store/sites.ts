// SQL for sites.
import type { Executor } from './db.js'
import { queryOne, run } from './db.js'
import { jsonPageReader, type JsonPage, type PageRequest } from './pagination.js'
import type { SiteStatus } from '../contracts/enums.js'
import { insertEnvironment, type NewEnvironment } from './environments.js'

export interface SiteRow {
  id: string; name: string; slug: string; status: SiteStatus; primary_environment_id: string | null
  created_at: string; updated_at: string; state_version: number
}

export async function insertSite(ex: Executor, site: SiteRow): Promise<void> {
  await run(ex, `INSERT INTO sites (id, name, slug, status, primary_environment_id, created_at, updated_at, state_version)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, [
    site.id, site.name, site.slug, site.status, site.primary_environment_id, site.created_at, site.updated_at, site.state_version,
  ])
}

export async function findSite(ex: Executor, id: string): Promise<SiteRow | undefined> {
  return queryOne<SiteRow>(ex, 'SELECT * FROM sites WHERE id = ?', [id])
}

export async function findSiteBySlug(ex: Executor, slug: string): Promise<SiteRow | undefined> {
  return queryOne<SiteRow>(ex, 'SELECT * FROM sites WHERE slug = ?', [slug])
}

/** The columns of a site in the API, in the order of the view (runtime/sites/site-service.ts, siteView). */
export const SITE_COLUMNS = ['id', 'name', 'slug', 'status', 'primary_environment_id', 'created_at', 'updated_at', 'state_version'] as const

const readSitePage = jsonPageReader({ from: 'sites' }, SITE_COLUMNS)

/** One page of sites as the JSON text of the API's page (the view is the column list). */
export async function listSites(ex: Executor, page: PageRequest): Promise<JsonPage> {
  return readSitePage(ex, page)
}

/** Optimistic status change: 0 when the row moved on since it was read. */
export async function updateSiteStatus(ex: Executor, id: string, expectedVersion: number, status: SiteStatus, now: string): Promise<number> {
  return run(ex, `UPDATE sites SET status = ?, updated_at = ?, state_version = state_version + 1
    WHERE id = ? AND state_version = ?`, [status, now, id, expectedVersion])
}

/** Jobs of the site that are queued or running (a reset must not race them). */
export async function countOpenJobsOfSite(ex: Executor, siteId: string): Promise<number> {
  const row = await queryOne<{ n: number }>(ex, "SELECT COUNT(*) AS n FROM jobs WHERE site_id = ? AND status IN ('queued', 'running')", [siteId])
  return row?.n ?? 0
}

/**
 * The site and its production environment reference each other; deferring the foreign-key check to the commit lets
 * the site row be written once with its final primary_environment_id (state_version stays 1).
 */
export async function insertSiteWithProductionEnvironment(ex: Executor, site: SiteRow, production: NewEnvironment): Promise<void> {
  await run(ex, 'PRAGMA defer_foreign_keys = ON')
  await insertSite(ex, site)
  await insertEnvironment(ex, production)
}
