// Environments: list/get, clone creation (env_create), the async operations of the API (contracts/openapi.json), and reset.
import crypto from 'node:crypto'
import type { Db, Tx } from '../store/db.js'
import { inTransaction } from '../store/db.js'
import {
  findEnvironmentBySlug, findProductionEnvironment, insertEnvironment, listEnvironmentsOfSite, updateEnvironmentStatus,
  findJobOfEnvironment, findEnvironment, updateEnvironmentBasicAuth, type EnvironmentRow,
} from '../store/environments.js'
import { countOpenJobsOfSite, type SiteRow } from '../store/sites.js'
import type { NodeRow } from '../store/nodes.js'
import { findRelease } from '../store/releases.js'
import { findBackup, findFreshFullBackup } from '../store/backups.js'
import { findLatestDriftCheck } from '../store/drift-checks.js'
import { insertAudit } from '../store/audit.js'
import { pageRequest, mapPage, type Page } from '../store/pagination.js'
import type { Config } from '../config.js'
import type { JobControl } from '../jobs/job-control.js'
import type { SettingsService, SettingsSnapshot } from '../settings/settings-service.js'
import type { Actor } from '../auth/auth-service.js'
import type { EnvironmentType, PromotionPreset, UPDATE_SCOPES } from '../contracts/enums.js'
import { ApiError } from '../contracts/errors.js'
import { refusedArchiveUrl } from '../contracts/archive-url.js'
import type { DriftDifferences } from '../drift/compare-drift.js'
import { acceptJob, type AcceptedJob } from '../jobs/accept-job.js'
import {
  loadSite, loadEnvironment, loadNodeOf, requireEnvironmentActive, requireSiteActive, requireSiteNotFailed, requireNodeActive,
  requireBackupStorage, requireUpdated, publicIpOf,
} from '../resources/guards.js'
import { allocateEnvironmentId, previewUrl } from './preview-url.js'
import { ensurePreOperationBackup } from '../backups/backup-jobs.js'
import { nowIso, isoPlus } from '../clock.js'
import type { SecretStore } from '../secrets/secret-store.js'
import { hashBasicAuthPassword } from './htpasswd.js'

export function environmentView(row: EnvironmentRow) {
  return {
    id: row.id, site_id: row.site_id, name: row.name, slug: row.slug, environment_type: row.environment_type,
    status: row.status, node_id: row.node_id, source_environment_id: row.source_environment_id,
    promotion_preset: row.promotion_preset, preview_url: row.preview_url, primary_domain_id: row.primary_domain_id,
    current_release_id: row.current_release_id, drift_status: row.drift_status, drift_checked_at: row.drift_checked_at,
    last_drift_check_id: row.last_drift_check_id, drift_differences: driftDifferences(row.drift_differences_json),
    fastcgi_cache_enabled: row.fastcgi_cache_enabled === 1,
    redis_cache_enabled: row.redis_cache_enabled === 1,
    basic_auth: { enabled: row.basic_auth_enabled === 1, username: row.basic_auth_username }, created_at: row.created_at, updated_at: row.updated_at,
    state_version: row.state_version,
  }
}
export type EnvironmentView = ReturnType<typeof environmentView>

function driftDifferences(json: string | null): DriftDifferences | null {
  if (json === null) return null
  try { return JSON.parse(json) as DriftDifferences } catch { return null }
}

/** What an environment operation works on, loaded inside its transaction. */
interface Target { tx: Tx; env: EnvironmentRow; site: SiteRow; node: NodeRow; settings: SettingsSnapshot }

/** The job an operation accepts; site and node come from the environment, environment_id defaults to it. */
type OperationJob = Omit<AcceptedJob, 'site_id' | 'environment_id' | 'node_id'> & Partial<Pick<AcceptedJob, 'environment_id'>>

interface OperationRules {
  /** Moves site status (deploy, updates, restore, promote): the site must not be failed. */
  moveSite: boolean
  /** 404s of body ids and checks of the request itself, before any state check. */
  precheck?: (tx: Tx, env: EnvironmentRow) => Promise<void>
  /** Idempotent re-requests: an equivalent job already accepted is answered instead of creating another. */
  existingJob?: (tx: Tx, env: EnvironmentRow) => Promise<{ id: string } | undefined>
}

/** The URL a deploy's node connects to: the repository of a git ref (git@host:path as ssh://host/path), or the artifact URL. */
function deploySourceUrl(input: { source_type: 'git' | 'upload'; source_ref: string }): string {
  if (input.source_type === 'upload') return input.source_ref
  const repo = input.source_ref.slice(0, input.source_ref.lastIndexOf('#'))
  const scp = /^git@([^:]+):(.*)$/.exec(repo)
  return scp ? `ssh://git@${scp[1]}/${scp[2]}` : repo
}

export class EnvironmentService {
  constructor(private readonly db: Db, private readonly config: Config, private readonly settings: SettingsService, private readonly jobControl: () => JobControl,
    private readonly secrets?: SecretStore) {}

  async get(id: string): Promise<EnvironmentView> {
    return environmentView(await loadEnvironment(this.db, id))
  }

  async listOfSite(siteId: string, query: { limit?: number; cursor?: string }): Promise<Page<EnvironmentView>> {
    const site = await loadSite(this.db, siteId)
    return mapPage(await listEnvironmentsOfSite(this.db, site.id, pageRequest(query)), environmentView)
  }

  /** A staging/clone environment cloned from a source of the same site, on the site's node (env_create). */
  async create(siteId: string, input: {
    name: string; slug: string; type: EnvironmentType; source_environment_id?: string | null; promotion_preset: PromotionPreset
  }, actor: Actor): Promise<{ job_id: string }> {
    const jobId = await inTransaction(this.db, async (tx) => {
      const site = await loadSite(tx, siteId)
      const production = await findProductionEnvironment(tx, site.id)
      // Every site gets its production environment at creation and environments are never deleted.
      if (input.type === 'production') {
        throw new ApiError('production_environment_exists', 'A site has exactly one production environment', { environment_id: production?.id ?? null })
      }
      const source = await findEnvironment(tx, input.source_environment_id!)
      if (!source || source.site_id !== site.id) {
        throw new ApiError('not_found', 'Source environment not found in this site', { field: 'source_environment_id' })
      }
      if (await findEnvironmentBySlug(tx, site.id, input.slug)) {
        throw new ApiError('slug_taken', `Environment slug "${input.slug}" is already used in this site`, { slug: input.slug })
      }
      requireSiteActive(site)
      requireEnvironmentActive(source)
      const node = await loadNodeOf(tx, production ?? source)
      requireNodeActive(node)

      const settings = await this.settings.snapshot(tx)
      const now = nowIso()
      const envId = await allocateEnvironmentId(tx)
      await insertEnvironment(tx, {
        id: envId, site_id: site.id, name: input.name, slug: input.slug, environment_type: input.type, status: 'cloning',
        node_id: node.id, source_environment_id: source.id, promotion_preset: input.promotion_preset,
        preview_url: previewUrl(envId, publicIpOf(node), settings.preview_domain), created_at: now, updated_at: now,
      })
      return acceptJob(tx, actor, this.config.maxAttempts, {
        job_type: 'env_create', site_id: site.id, environment_id: envId, node_id: node.id,
        payload: { source_environment_id: source.id }, resource: { type: 'environment', id: envId },
        details: { source_environment_id: source.id },
      })
    })
    this.jobControl().wake()
    return { job_id: jobId }
  }

  async driftCheck(envId: string, actor: Actor): Promise<{ job_id: string }> {
    return this.operate(envId, actor, {
      moveSite: false,
      precheck: async (_tx, env) => {
        if (env.environment_type === 'production') throw new ApiError('drift_check_not_applicable', 'Production environments have no drift')
      },
      existingJob: (tx, env) => findJobOfEnvironment(tx, env.id, 'drift_check', ['queued']),
    }, async ({ env }) => ({ job_type: 'drift_check', payload: { trigger: 'api' }, resource: { type: 'environment', id: env.id } }))
  }

  async deploy(envId: string, input: { source_type: 'git' | 'upload'; source_ref: string }, actor: Actor): Promise<{ job_id: string }> {
    return this.operate(envId, actor, { moveSite: true }, async ({ env, settings }) => {
      if (input.source_type === 'upload' && input.source_ref.startsWith('s3://')) {
        // s3:// artifacts are fetched with the backup storage credentials, so they must live in the backup bucket.
        requireBackupStorage(settings.backupStorageConfigured)
        if (new URL(input.source_ref).hostname !== settings.backup_s3_bucket) {
          throw new ApiError('bad_request', 'Request validation failed', { issues: [{ path: 'source_ref', message: 's3:// artifacts must be in the backup bucket' }] })
        }
      }
      // The node fetches the artifact: the same address rules as an import archive (docs/decisions.md). s3:// objects
      // come from the backup storage the operator configured.
      const refusal = input.source_ref.startsWith('s3://') ? null : refusedArchiveUrl(deploySourceUrl(input), settings.import_allowed_sources)
      if (refusal) {
        throw new ApiError('bad_request', 'Request validation failed', {
          issues: [{ path: 'source_ref', message: `must not point at this host's or internal services: ${refusal}` }],
        })
      }
      return { job_type: 'env_deploy', payload: { ...input }, resource: { type: 'environment', id: env.id } }
    })
  }

  async updates(envId: string, input: { scope: (typeof UPDATE_SCOPES)[number] }, actor: Actor): Promise<{ job_id: string }> {
    return this.operate(envId, actor, { moveSite: true }, async ({ tx, env, settings }) => {
      requireBackupStorage(settings.backupStorageConfigured)
      const pre = await this.preBackup(tx, env, 'pre_update', settings, actor)
      return { job_type: 'env_update', payload: { scope: input.scope, pre_backup_id: pre.pre_backup_id }, resource: { type: 'environment', id: env.id }, details: { ...pre } }
    })
  }

  async restore(envId: string, input: { backup_id: string }, actor: Actor): Promise<{ job_id: string }> {
    return this.operate(envId, actor, {
      moveSite: true,
      precheck: async (tx) => {
        if (!(await findBackup(tx, input.backup_id))) throw new ApiError('not_found', 'Backup not found', { field: 'backup_id' })
      },
    }, async ({ tx, env, settings }) => {
      const backup = (await findBackup(tx, input.backup_id))!
      const backupEnv = (await findEnvironment(tx, backup.environment_id))!
      const usable = backup.status === 'completed' && backup.retention_until > nowIso()
      if (!usable || backupEnv.site_id !== env.site_id) {
        throw new ApiError('backup_not_restorable', 'Backup is not restorable: it must be completed, within retention and of this site', {
          backup_id: backup.id, status: backup.status, retention_until: backup.retention_until, same_site: backupEnv.site_id === env.site_id,
        })
      }
      requireBackupStorage(settings.backupStorageConfigured)
      const pre = await this.preBackup(tx, env, 'pre_restore', settings, actor)
      return {
        job_type: 'env_restore', payload: { backup_id: backup.id, pre_backup_id: pre.pre_backup_id },
        resource: { type: 'environment', id: env.id }, details: { backup_id: backup.id, ...pre },
      }
    })
  }

  /**
   * Promotion source → production of the same site. Gates (checked again when the job starts): the source's newest
   * drift check is clean, made with its current preset, within the gate window; the target has a fresh full backup.
   */
  async promote(sourceId: string, input: { target_environment_id: string }, actor: Actor): Promise<{ job_id: string }> {
    return this.operate(sourceId, actor, {
      moveSite: true,
      precheck: async (tx, source) => {
        const target = await loadEnvironment(tx, input.target_environment_id, 'target_environment_id')
        if (source.environment_type === 'production' || target.environment_type !== 'production' || target.site_id !== source.site_id) {
          throw new ApiError('invalid_promotion_target', 'Promote a staging or clone environment into the production environment of its own site', {
            source_environment_type: source.environment_type, target_environment_type: target.environment_type, same_site: target.site_id === source.site_id,
          })
        }
      },
    }, async ({ tx, env: source }) => {
      const target = (await findEnvironment(tx, input.target_environment_id))!
      requireEnvironmentActive(target)
      const now = nowIso()
      const windowStart = isoPlus(now, -this.config.gateFreshnessMinutes * 60_000)
      const drift = await findLatestDriftCheck(tx, source.id)
      if (!drift || drift.status !== 'clean' || drift.promotion_preset !== source.promotion_preset || drift.checked_at < windowStart) {
        throw new ApiError('drift_gate_unmet', `The source needs a clean drift check from the last ${this.config.gateFreshnessMinutes} minutes with its current preset`, {
          drift_check_id: drift?.id ?? null, status: drift?.status ?? null, checked_at: drift?.checked_at ?? null,
        })
      }
      const gateBackup = await findFreshFullBackup(tx, target.id, windowStart, now)
      if (!gateBackup) {
        throw new ApiError('backup_gate_unmet', `The production environment needs a full backup completed in the last ${this.config.gateFreshnessMinutes} minutes`, { environment_id: target.id })
      }
      const payload = { source_environment_id: source.id, gate_backup_id: gateBackup.id, drift_check_id: drift.id }
      return { job_type: 'env_promote', environment_id: target.id, payload, resource: { type: 'environment', id: target.id }, details: payload }
    })
  }

  /** Cache flags change only when the env_cache_toggle job succeeds; the payload carries the requested values. */
  async toggleCache(envId: string, input: { fastcgi_cache_enabled?: boolean; redis_cache_enabled?: boolean }, actor: Actor): Promise<{ job_id: string }> {
    return this.operate(envId, actor, { moveSite: false }, async ({ env }) => {
      const payload = Object.fromEntries(Object.entries(input).filter(([, value]) => value !== undefined))
      return { job_type: 'env_cache_toggle', payload, resource: { type: 'environment', id: env.id }, details: payload }
    })
  }

  /**
   * The environment's HTTP basic auth (docs/decisions.md "Staging protection"): the row takes the setting in the
   * acceptance transaction and env_protection applies it; every later job that renders the server blocks applies it
   * too. The password is stored only as a SHA-512 crypt hash in the secret store (a new name per password, so a
   * rolled-back request leaves the stored reference intact); a changed username needs a new password.
   */
  async setBasicAuth(envId: string, input: { enabled: boolean; username?: string; password?: string }, actor: Actor): Promise<{ job_id: string }> {
    const secrets = this.secrets
    if (!secrets) throw new Error('EnvironmentService was built without the secret store')
    // Hashed and stored before the write transaction (which then holds its lock only for the row and the job); a
    // refused or failed request deletes the new secret again.
    const written = input.password === undefined ? undefined : `env/${envId}/basic-auth-${crypto.randomUUID()}`
    if (written) await secrets.set(written, hashBasicAuthPassword(input.password!))
    let replaced: string | null = null
    try {
      const result = await this.operate(envId, actor, {
        moveSite: false,
        precheck: async (_tx, env) => {
          const username = input.username ?? env.basic_auth_username
          const keepsPassword = input.password === undefined && username === env.basic_auth_username && env.basic_auth_password_ref !== null
          const issues = [
            ...(input.enabled && !username ? [{ path: 'username', message: 'required to enable basic auth' }] : []),
            ...(input.enabled && input.password === undefined && !keepsPassword
              ? [{ path: 'password', message: 'required to enable basic auth with a new username or when none is stored' }] : []),
          ]
          if (issues.length) throw new ApiError('bad_request', 'Request validation failed', { issues })
        },
      }, async ({ tx, env }) => {
        const username = input.username ?? env.basic_auth_username
        const passwordRef = written ? `secret:${written}` : username === env.basic_auth_username ? env.basic_auth_password_ref : null
        if (passwordRef !== env.basic_auth_password_ref) replaced = env.basic_auth_password_ref
        requireUpdated(await updateEnvironmentBasicAuth(tx, env.id, env.state_version, { enabled: input.enabled, username, password_ref: passwordRef }, nowIso()), 'Environment')
        // The audit row names what changed, never the password.
        const details = { enabled: input.enabled, username, password_changed: written !== undefined }
        return { job_type: 'env_protection', payload: { trigger: 'basic_auth' }, resource: { type: 'environment', id: env.id }, details }
      })
      if (replaced) secrets.delete((replaced as string).slice('secret:'.length))
      return result
    } catch (error) {
      if (written) secrets.delete(written)
      throw error
    }
  }

  async purgeCache(envId: string, actor: Actor): Promise<{ job_id: string }> {
    return this.operate(envId, actor, {
      moveSite: false,
      existingJob: (tx, env) => findJobOfEnvironment(tx, env.id, 'cache_purge', ['queued']),
    }, async ({ env }) => ({ job_type: 'cache_purge', payload: {}, resource: { type: 'environment', id: env.id } }))
  }

  /** Reset of one failed environment (docs/architecture.md "Reset"); its site is left as it is. */
  async reset(envId: string, actor: Actor): Promise<{ success: true; status: 'active' }> {
    await inTransaction(this.db, async (tx) => {
      const env = await loadEnvironment(tx, envId)
      if (env.status !== 'failed') throw new ApiError('resource_not_failed', 'Only a failed environment can be reset', { status: env.status })
      const refuse = (reason: string, message: string) => new ApiError('reset_validation_failed', message, { reason })
      if (await countOpenJobsOfSite(tx, env.site_id) > 0) throw refuse('site_has_open_jobs', 'The site still has queued or running jobs')
      const release = env.current_release_id ? await findRelease(tx, env.current_release_id) : undefined
      if (!release) throw refuse('current_release_missing', 'The environment has no current release')
      if (release.environment_id !== env.id) throw refuse('current_release_foreign', 'The current release belongs to another environment')
      const node = await loadNodeOf(tx, env)
      if (node.status !== 'active') throw refuse('node_not_active', `The environment's node is ${node.status}`)

      requireUpdated(await updateEnvironmentStatus(tx, env.id, env.state_version, 'active', nowIso()), 'Environment')
      await insertAudit(tx, { user_id: actor.id, token_id: actor.token_id, action: 'environment_reset', resource_type: 'environment', resource_id: env.id, result: 'succeeded' })
    })
    return { success: true, status: 'active' }
  }

  private preBackup(tx: Tx, env: EnvironmentRow, purpose: 'pre_update' | 'pre_restore', settings: SettingsSnapshot, actor: Actor) {
    return ensurePreOperationBackup(tx, { env, purpose, settings, actor, maxAttempts: this.config.maxAttempts, gateFreshnessMinutes: this.config.gateFreshnessMinutes })
  }

  /**
   * Common frame of an environment operation, in one transaction: 404s (path, then body ids), request checks, an
   * already accepted equivalent job, then the state checks (docs/decisions.md "Order of checks") in order — environment active, site not
   * failed (operations that move site status), node active — then the operation's own checks and its job with the
   * `accepted` audit row. Wakes the scheduler after the commit.
   */
  private async operate(envId: string, actor: Actor, rules: OperationRules, body: (target: Target) => Promise<OperationJob>): Promise<{ job_id: string }> {
    const outcome = await inTransaction(this.db, async (tx) => {
      const env = await loadEnvironment(tx, envId)
      await rules.precheck?.(tx, env)
      const existing = await rules.existingJob?.(tx, env)
      if (existing) return { jobId: existing.id, created: false }
      const site = await loadSite(tx, env.site_id)
      const node = await loadNodeOf(tx, env)
      requireEnvironmentActive(env)
      if (rules.moveSite) requireSiteNotFailed(site)
      requireNodeActive(node)
      const job = await body({ tx, env, site, node, settings: await this.settings.snapshot(tx) })
      const jobId = await acceptJob(tx, actor, this.config.maxAttempts, { site_id: env.site_id, environment_id: env.id, node_id: env.node_id, ...job })
      return { jobId, created: true }
    })
    if (outcome.created) this.jobControl().wake()
    return { job_id: outcome.jobId }
  }
}
