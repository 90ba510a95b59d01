// An environment's releases for the operator: the list with their health, and a rollback to one of them (release_rollback).
import type { Db } from '../store/db.js'
import { inTransaction } from '../store/db.js'
import { findRelease, listReleasesOfEnvironment, type ReleaseRow } from '../store/releases.js'
import { pageRequest, mapPage, type Page } from '../store/pagination.js'
import type { Config } from '../config.js'
import type { JobControl } from '../jobs/job-control.js'
import type { Actor } from '../auth/auth-service.js'
import { ApiError } from '../contracts/errors.js'
import { acceptJob } from '../jobs/accept-job.js'
import { loadEnvironment, loadNodeOf, loadSite, requireEnvironmentActive, requireNodeActive, requireSiteNotFailed } from '../resources/guards.js'

export function releaseView(row: ReleaseRow, currentReleaseId: string | null) {
  return {
    id: row.id, environment_id: row.environment_id, source_type: row.source_type, source_ref: row.source_ref,
    health_status: row.health_status, is_current: row.id === currentReleaseId, created_at: row.created_at,
  }
}
export type ReleaseView = ReturnType<typeof releaseView>

export class ReleaseService {
  constructor(private readonly db: Db, private readonly config: Config, private readonly jobControl: () => JobControl) {}

  async listOfEnvironment(envId: string, query: { limit?: number; cursor?: string }): Promise<Page<ReleaseView>> {
    const env = await loadEnvironment(this.db, envId)
    return mapPage(await listReleasesOfEnvironment(this.db, env.id, pageRequest(query)), (row) => releaseView(row, env.current_release_id))
  }

  /**
   * The operator's rollback: switch the environment back to one of its own earlier releases. A release a health check
   * found unhealthy (docs/architecture.md "Resource effects") is never a rollback target, and neither is the current one.
   */
  async rollback(envId: string, input: { release_id: string }, actor: Actor): Promise<{ job_id: string }> {
    const jobId = await inTransaction(this.db, async (tx) => {
      const env = await loadEnvironment(tx, envId)
      const release = await findRelease(tx, input.release_id)
      if (!release) throw new ApiError('not_found', 'Release not found', { field: 'release_id' })
      const refuse = (reason: string, message: string) => {
        throw new ApiError('release_not_rollback_target', message, { release_id: release.id, environment_id: env.id, reason })
      }
      if (release.environment_id !== env.id) refuse('foreign_release', 'The release belongs to another environment')
      if (release.health_status === 'unhealthy') refuse('release_unhealthy', 'The release failed its health check and is never rolled back to')
      if (release.id === env.current_release_id) refuse('release_current', 'The release is already the current one')
      requireEnvironmentActive(env)
      requireSiteNotFailed(await loadSite(tx, env.site_id))
      requireNodeActive(await loadNodeOf(tx, env))
      return acceptJob(tx, actor, this.config.maxAttempts, {
        job_type: 'release_rollback', site_id: env.site_id, environment_id: env.id, node_id: env.node_id,
        payload: { failed_release_id: null, to_release_id: release.id, restore_db_backup_id: null },
        resource: { type: 'environment', id: env.id },
        details: { from_release_id: env.current_release_id, to_release_id: release.id },
      })
    })
    this.jobControl().wake()
    return { job_id: jobId }
  }
}
