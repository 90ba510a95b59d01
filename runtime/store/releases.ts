// SQL for releases (read side of the API: reset validation).
import type { Executor } from './db.js'
import { queryOne } from './db.js'

export interface ReleaseRow {
  id: string; environment_id: string; source_type: 'git' | 'upload'; source_ref: string; path: string
  health_status: 'unknown' | 'healthy' | 'unhealthy'; notes: string | null; created_at: string
}

export async function findRelease(ex: Executor, id: string): Promise<ReleaseRow | undefined> {
  return queryOne<ReleaseRow>(ex, 'SELECT * FROM releases WHERE id = ?', [id])
}
