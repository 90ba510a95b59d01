// Sites: list/get, creation with the production environment (site_create), archive import (site_import) and reset.
import crypto from 'node:crypto'
import type { Db } from '../store/db.js'
import { inTransaction } from '../store/db.js'
import {
  findSiteBySlug, insertSiteWithProductionEnvironment, listSites, updateSiteStatus, countOpenJobsOfSite, type SiteRow,
} from '../store/sites.js'
import { environmentsOfSite, findProductionEnvironment } from '../store/environments.js'
import { findNode, findLeastLoadedActiveNode } from '../store/nodes.js'
import { findRelease } from '../store/releases.js'
import { insertAudit } from '../store/audit.js'
import { pageRequest, type JsonPage } from '../store/pagination.js'
import type { Config } from '../config.js'
import type { JobControl } from '../jobs/job-control.js'
import type { SettingsService } from '../settings/settings-service.js'
import type { Actor } from '../auth/auth-service.js'
import { ApiError } from '../contracts/errors.js'
import { refusedArchiveUrl } from '../contracts/archive-url.js'
import { acceptJob } from '../jobs/accept-job.js'
import {
  loadSite, loadNodeOf, requireSiteActive, requireEnvironmentActive, requireNodeActive, requireBackupStorage, requireUpdated, publicIpOf,
} from '../resources/guards.js'
import { allocateEnvironmentId, previewUrl } from '../environments/preview-url.js'
import { ensurePreOperationBackup } from '../backups/backup-jobs.js'
import { nowIso } from '../clock.js'

export function siteView(row: SiteRow) {
  return {
    id: row.id, name: row.name, slug: row.slug, status: row.status, primary_environment_id: row.primary_environment_id,
    created_at: row.created_at, updated_at: row.updated_at, state_version: row.state_version,
  }
}

export type SiteView = ReturnType<typeof siteView>

const IN_PROGRESS = ['cloning', 'deploying', 'restoring']

export class SiteService {
  constructor(private readonly db: Db, private readonly config: Config, private readonly settings: SettingsService, private readonly jobControl: () => JobControl) {}

  /** One page of sites, already serialised by SQLite (its items are siteView's fields in siteView's order). */
  async list(query: { limit?: number; cursor?: string }): Promise<JsonPage> {
    return listSites(this.db, pageRequest(query))
  }

  async get(id: string): Promise<SiteView> {
    return siteView(await loadSite(this.db, id))
  }

  /**
   * Creates the site and its production environment (both `deploying`) plus the site_create job. Without node_id the
   * site goes to the active node with the fewest environments (ties: the oldest node).
   */
  async create(input: { name: string; slug: string; node_id?: string }, actor: Actor): Promise<{ job_id: string }> {
    const jobId = await inTransaction(this.db, async (tx) => {
      const requestedNode = input.node_id ? await findNode(tx, input.node_id) : undefined
      if (input.node_id && !requestedNode) throw new ApiError('not_found', 'Node not found', { field: 'node_id' })
      if (await findSiteBySlug(tx, input.slug)) throw new ApiError('slug_taken', `Site slug "${input.slug}" is already used`, { slug: input.slug })
      const node = requestedNode ?? await findLeastLoadedActiveNode(tx)
      if (!node) throw new ApiError('no_active_node', 'No active node to place the site on; register one with POST /api/nodes')
      requireNodeActive(node)
      const publicIp = publicIpOf(node)

      const settings = await this.settings.snapshot(tx)
      const now = nowIso()
      const siteId = crypto.randomUUID()
      const envId = await allocateEnvironmentId(tx)
      await insertSiteWithProductionEnvironment(tx, {
        id: siteId, name: input.name, slug: input.slug, status: 'deploying', primary_environment_id: envId,
        created_at: now, updated_at: now, state_version: 1,
      }, {
        id: envId, site_id: siteId, name: 'Production', slug: 'production', environment_type: 'production', status: 'deploying',
        node_id: node.id, source_environment_id: null, promotion_preset: 'content-protect',
        preview_url: previewUrl(envId, publicIp, settings.preview_domain), created_at: now, updated_at: now,
      })
      return acceptJob(tx, actor, this.config.maxAttempts, {
        job_type: 'site_create', site_id: siteId, environment_id: envId, node_id: node.id, payload: {},
        resource: { type: 'site', id: siteId }, details: { environment_id: envId, node_id: node.id },
      })
    })
    this.jobControl().wake()
    return { job_id: jobId }
  }

  /** site_import into the production environment, after a pre-import backup (reused when fresh). */
  async importArchive(siteId: string, input: { archive_url: string }, actor: Actor): Promise<{ job_id: string }> {
    const jobId = await inTransaction(this.db, async (tx) => {
      // SSRF defence decidable here (IP literals, local names), with the operator's allow-list as it is now; a request
      // error, so it comes before the state checks as the body's validation does.
      const settings = await this.settings.snapshot(tx)
      const refusal = refusedArchiveUrl(input.archive_url, settings.import_allowed_sources)
      if (refusal) {
        throw new ApiError('bad_request', 'Request validation failed', {
          issues: [{ path: 'archive_url', message: `must not point at this host's or internal services: ${refusal}` }],
        })
      }
      const site = await loadSite(tx, siteId)
      requireSiteActive(site)
      const production = await findProductionEnvironment(tx, site.id)
      if (!production) throw new Error(`site ${site.id} has no production environment`)
      requireEnvironmentActive(production)
      requireBackupStorage(settings.backupStorageConfigured)
      requireNodeActive(await loadNodeOf(tx, production))

      const pre = await ensurePreOperationBackup(tx, {
        env: production, purpose: 'pre_import', settings, actor, maxAttempts: this.config.maxAttempts,
        gateFreshnessMinutes: this.config.gateFreshnessMinutes,
      })
      return acceptJob(tx, actor, this.config.maxAttempts, {
        job_type: 'site_import', site_id: site.id, environment_id: production.id, node_id: production.node_id,
        payload: { archive_url: input.archive_url, pre_backup_id: pre.pre_backup_id },
        resource: { type: 'site', id: site.id }, details: { environment_id: production.id, ...pre },
      })
    })
    this.jobControl().wake()
    return { job_id: jobId }
  }

  /** Reset: failed → active once nothing is in flight and production has a release (docs/architecture.md "Reset"). */
  async reset(siteId: string, actor: Actor): Promise<{ success: true; status: 'active' }> {
    await inTransaction(this.db, async (tx) => {
      const site = await loadSite(tx, siteId)
      if (site.status !== 'failed') throw new ApiError('resource_not_failed', 'Only a failed site can be reset', { status: site.status })
      const refuse = (reason: string, message: string) => new ApiError('reset_validation_failed', message, { reason })
      if (await countOpenJobsOfSite(tx, site.id) > 0) throw refuse('site_has_open_jobs', 'The site still has queued or running jobs')
      const envs = await environmentsOfSite(tx, site.id)
      if (envs.some((env) => IN_PROGRESS.includes(env.status))) throw refuse('environment_in_progress', 'An environment of the site is cloning, deploying or restoring')
      const production = envs.find((env) => env.environment_type === 'production')
      if (!production) throw refuse('production_environment_missing', 'The site has no production environment')
      const release = production.current_release_id ? await findRelease(tx, production.current_release_id) : undefined
      if (!release || release.environment_id !== production.id) throw refuse('production_release_missing', 'The production environment has no current release')

      requireUpdated(await updateSiteStatus(tx, site.id, site.state_version, 'active', nowIso()), 'Site')
      await insertAudit(tx, { user_id: actor.id, token_id: actor.token_id, action: 'site_reset', resource_type: 'site', resource_id: site.id, result: 'succeeded' })
    })
    return { success: true, status: 'active' }
  }
}
