// Custom domains of an environment: list, attach (domain_add, with retry of a failed hostname) and removal (domain_remove).
import crypto from 'node:crypto'
import type { Db } from '../store/db.js'
import { inTransaction } from '../store/db.js'
import {
  findDomain, findDomainByHostname, insertDomain, listDomainsOfEnvironment, updateDomainStatus, findOpenDomainRemoveJob,
  type DomainRow,
} from '../store/domains.js'
import { pageRequest, mapPage, type Page } from '../store/pagination.js'
import type { Config } from '../config.js'
import type { JobControl } from '../jobs/job-control.js'
import type { SettingsService } from '../settings/settings-service.js'
import type { Actor } from '../auth/auth-service.js'
import { ApiError } from '../contracts/errors.js'
import { customDomainProblem } from '../contracts/validation.js'
import { acceptJob } from '../jobs/accept-job.js'
import { loadEnvironment, loadNodeOf, requireEnvironmentActive, requireNodeActive, requireUpdated } from '../resources/guards.js'
import { nowIso } from '../clock.js'

export function domainView(row: DomainRow) {
  return {
    id: row.id, environment_id: row.environment_id, hostname: row.hostname, tls_status: row.tls_status,
    tls_issuer: row.tls_issuer, is_primary: row.is_primary === 1, created_at: row.created_at, updated_at: row.updated_at,
  }
}
export type DomainView = ReturnType<typeof domainView>

export class DomainService {
  constructor(private readonly db: Db, private readonly config: Config, private readonly settings: SettingsService, private readonly jobControl: () => JobControl) {}

  async listOfEnvironment(envId: string, query: { limit?: number; cursor?: string }): Promise<Page<DomainView>> {
    const env = await loadEnvironment(this.db, envId)
    return mapPage(await listDomainsOfEnvironment(this.db, env.id, pageRequest(query)), domainView)
  }

  /** New hostname → `pending` row; the same env's `failed` hostname → back to `pending` (retry); anything else → domain_exists. */
  async add(envId: string, input: { hostname: string }, actor: Actor): Promise<{ job_id: string }> {
    const jobId = await inTransaction(this.db, async (tx) => {
      const env = await loadEnvironment(tx, envId)
      const settings = await this.settings.snapshot(tx)
      const problem = customDomainProblem(input.hostname, settings.preview_domain, settings.control_plane_domain)
      if (problem) throw new ApiError('bad_request', 'Request validation failed', { issues: [{ path: 'hostname', message: problem }] })
      requireEnvironmentActive(env)
      requireNodeActive(await loadNodeOf(tx, env))

      const now = nowIso()
      const existing = await findDomainByHostname(tx, input.hostname)
      let domainId: string
      if (existing) {
        if (existing.environment_id !== env.id || existing.tls_status !== 'failed') {
          throw new ApiError('domain_exists', `Hostname ${input.hostname} is already attached`, {
            domain_id: existing.id, environment_id: existing.environment_id, tls_status: existing.tls_status,
          })
        }
        requireUpdated(await updateDomainStatus(tx, existing.id, 'failed', 'pending', now), 'Domain')
        domainId = existing.id
      } else {
        domainId = crypto.randomUUID()
        await insertDomain(tx, { id: domainId, environment_id: env.id, hostname: input.hostname, now })
      }
      return acceptJob(tx, actor, this.config.maxAttempts, {
        job_type: 'domain_add', site_id: env.site_id, environment_id: env.id, node_id: env.node_id, payload: { domain_id: domainId },
        resource: { type: 'domain', id: domainId }, details: { hostname: input.hostname, environment_id: env.id, retry: existing !== undefined },
      })
    })
    this.jobControl().wake()
    return { job_id: jobId }
  }

  /** active/failed → disabled + domain_remove; a disabled domain answers its open domain_remove, or retries a failed one. */
  async remove(domainId: string, actor: Actor): Promise<{ job_id: string }> {
    const outcome = await inTransaction(this.db, async (tx) => {
      const domain = await findDomain(tx, domainId)
      if (!domain) throw new ApiError('not_found', 'Domain not found')
      if (domain.tls_status === 'pending') throw new ApiError('conflict', 'The domain is still being added; wait for its domain_add job to finish', { tls_status: domain.tls_status })
      const open = await findOpenDomainRemoveJob(tx, domain)
      if (open) return { jobId: open.id, created: false }
      const env = await loadEnvironment(tx, domain.environment_id)
      requireEnvironmentActive(env)
      requireNodeActive(await loadNodeOf(tx, env))
      if (domain.tls_status !== 'disabled') {
        requireUpdated(await updateDomainStatus(tx, domain.id, domain.tls_status, 'disabled', nowIso()), 'Domain')
      }
      const jobId = await acceptJob(tx, actor, this.config.maxAttempts, {
        job_type: 'domain_remove', site_id: env.site_id, environment_id: env.id, node_id: env.node_id, payload: { domain_id: domain.id },
        resource: { type: 'domain', id: domain.id }, details: { hostname: domain.hostname, environment_id: env.id },
      })
      return { jobId, created: true }
    })
    if (outcome.created) this.jobControl().wake()
    return { job_id: outcome.jobId }
  }
}
