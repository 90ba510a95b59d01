// SQL for releases: reads for reset validation and the operator's release list / rollback.
import type { Executor } from './db.js'
import { queryOne } from './db.js'
import { selectPage, type Page, type PageRequest } from './pagination.js'

export interface ReleaseRow {
  id: string; environment_id: string; source_type: 'git' | 'upload'; source_ref: string; path: string
  health_status: 'unknown' | 'healthy' | 'unhealthy'; notes: string | null; created_at: string
}

export async function findRelease(ex: Executor, id: string): Promise<ReleaseRow | undefined> {
  return queryOne<ReleaseRow>(ex, 'SELECT * FROM releases WHERE id = ?', [id])
}

/** One page of an environment's releases, newest first. */
export async function listReleasesOfEnvironment(ex: Executor, envId: string, page: PageRequest): Promise<Page<ReleaseRow>> {
  return selectPage<ReleaseRow>(ex, { from: 'releases', where: ['environment_id = ?'], args: [envId] }, page)
}

