// Acceptance of an async request: the job row and its `accepted` audit row, written in the caller's transaction.
// Shared by every resource service (sites, environments, backups, domains, nodes). The job type must be registered
// (runtime/jobs/types/): the database does not check job_type, this does.
import type { Executor } from '../store/db.js'
import { jobTypeOf } from './registry.js'
import { insertJob, type NewJob } from '../store/jobs-insert.js'
import { insertAudit, type AuditResourceType } from '../store/audit.js'
import type { Actor } from '../auth/auth-service.js'

export interface AcceptedJob extends Omit<NewJob, 'requested_by' | 'max_attempts'> {
  /** The audited resource: the row the request is about (site, environment, backup, domain, node). */
  resource: { type: AuditResourceType; id: string }
  /** Related ids for the audit row (pre-operation jobs, sources); never secret values. */
  details?: Record<string, unknown>
}

/** Inserts a queued job requested by the actor and audits its acceptance (action = job type); returns the job id. */
export async function acceptJob(tx: Executor, actor: Actor, maxAttempts: number, job: AcceptedJob): Promise<string> {
  const { resource, details, ...jobFields } = job
  jobTypeOf(job.job_type)
  const jobId = await insertJob(tx, { ...jobFields, requested_by: actor.id, max_attempts: maxAttempts })
  await insertAudit(tx, {
    user_id: actor.id, token_id: actor.token_id, action: job.job_type, resource_type: resource.type, resource_id: resource.id, result: 'accepted',
    job_id: jobId, details: details ?? null,
  })
  return jobId
}

/** A job that is not audited on its own: a pre-operation backup, whose id goes into the dependent job's audit row. */
export async function insertRequestedJob(tx: Executor, actor: Actor, maxAttempts: number, job: Omit<NewJob, 'requested_by' | 'max_attempts'>): Promise<string> {
  jobTypeOf(job.job_type)
  return insertJob(tx, { ...job, requested_by: actor.id, max_attempts: maxAttempts })
}
