// Queue operations of the job engine: claim (with preconditions and start transition), completion, cancel and recovery.
import crypto from 'node:crypto'
import type { Db } from '../store/db.js'
import type { Logger } from '../logging.js'
import type { JobType } from '../contracts/enums.js'
import {
  claimJob, completeJob, cancelJobRow, findClaimCandidate, getJobRow, type Busy, type JobRow, type JobWrite,
} from '../store/jobs.js'
import {
  auditStatement, completionAudit, failureStatements, loadSuccessContext, preconditionCase, retryStatements, startStatements, successStatements,
} from '../store/job-effects.js'
import { jobRegistry, type JobTypeSpec } from './registry.js'
import { decideFailure, errorClass, type JobErrorCode } from './outcomes.js'
import type { JobOutcome } from './job-runner.js'
import { jobClockIso } from './job-clock.js'

export const ERROR_MESSAGE_LIMIT = 10 * 1024

export interface QueueSettings {
  maxAttempts: number
  backoffMinutes: number[]
  gateFreshnessMinutes: number
}

export type ClaimAttempt =
  | { outcome: 'running'; job: JobRow }
  | { outcome: 'precondition_failed'; job: JobRow }
  | { outcome: 'none' }

function specOf(job: JobRow): JobTypeSpec {
  const spec = jobRegistry[job.job_type as JobType]
  if (!spec) throw new Error(`job ${job.id} has unknown type ${job.job_type}`)
  return spec
}

/** Keeps the last 10 KiB (by UTF-8 bytes) of a message. */
export function tailBytes(text: string, limit = ERROR_MESSAGE_LIMIT): string {
  const buf = Buffer.from(text, 'utf8')
  if (buf.length <= limit) return text
  return buf.subarray(buf.length - limit).toString('utf8').replace(/^\uFFFD+/, '')
}

export class JobQueue {
  constructor(private readonly db: Db, private readonly settings: QueueSettings, private readonly log: Logger) {}

  /**
   * Claims the next eligible job, or reports that none is eligible. A claim that loses a race (an admin cancel or an
   * API write between the pick and the batch) simply picks again.
   */
  async claimNext(workerId: string, busy: Busy): Promise<ClaimAttempt> {
    for (let tries = 0; tries < 5; tries++) {
      const candidate = await findClaimCandidate(this.db, new Date().toISOString(), busy)
      if (!candidate) return { outcome: 'none' }
      const spec = specOf(candidate)
      const at = jobClockIso()
      const gateSince = new Date(Date.parse(at) - this.settings.gateFreshnessMinutes * 60_000).toISOString()
      // An earlier attempt's start transition already moved the resources this one finds.
      const startedBefore = candidate.attempt_count > 0
      const result = await claimJob(this.db, {
        job: candidate, workerId, at, busy,
        precondition: preconditionCase(candidate, spec, at, gateSince),
        start: (guard) => startStatements(candidate, spec, at, guard),
        preconditionFailure: (guard) => [
          ...failureStatements(candidate, spec, { code: 'PRECONDITION', started: startedBefore, precondition: true }, at, guard),
          ...completionAudit(candidate, spec, 'failed', at, guard),
        ],
      })
      if (result.outcome === 'running') return { outcome: 'running', job: result.job }
      if (result.outcome === 'failed') {
        this.log.info({ job_id: candidate.id, job_type: candidate.job_type, error_code: result.job.error_code }, 'job failed a precondition at start')
        return { outcome: 'precondition_failed', job: result.job }
      }
    }
    return { outcome: 'none' }
  }

  /**
   * The runner's completion: one batch conditional on the job still running under this lock, with job fields,
   * resource effects, follow-ups and the completion audit row. Returns false when another writer got there first.
   */
  async complete(job: JobRow, lock: { lockedBy: string; lockedAt: string }, outcome: JobOutcome): Promise<boolean> {
    const spec = specOf(job)
    const at = jobClockIso()
    if (outcome.ok) {
      const ctx = await loadSuccessContext(this.db, job, spec)
      const input = { result: outcome.result, expiredBackupIds: outcome.expiredBackupIds, followUpId: crypto.randomUUID(), maxAttempts: this.settings.maxAttempts }
      return completeJob(this.db, job, lock, { status: 'succeeded', errorCode: null, errorMessage: null, runAfter: null }, at,
        (guard) => [...successStatements(job, spec, ctx, input, at, guard), ...completionAudit(job, spec, 'succeeded', at, guard)])
    }
    return this.fail(job, lock, outcome.code, outcome.message, at)
  }

  /** Requeue with backoff while attempts remain for a retryable code, else final failure with its effects. */
  async fail(job: JobRow, lock: { lockedBy: string; lockedAt: string }, code: JobErrorCode, message: string, at = jobClockIso()): Promise<boolean> {
    const spec = specOf(job)
    const decision = decideFailure(code, job.attempt_count, job.max_attempts, this.settings.backoffMinutes)
    const errorMessage = tailBytes(message)
    if (decision.status === 'queued') {
      const write: JobWrite = { status: 'queued', errorCode: code, errorMessage, runAfter: new Date(Date.parse(at) + decision.runAfterMs).toISOString() }
      return completeJob(this.db, job, lock, write, at, (guard) => retryStatements(job, spec, at, guard))
    }
    const input = { code, started: true, precondition: decision.precondition, healthCheck: { followUpId: crypto.randomUUID(), maxAttempts: this.settings.maxAttempts } }
    return completeJob(this.db, job, lock, { status: 'failed', errorCode: code, errorMessage, runAfter: null }, at,
      (guard) => [...failureStatements(job, spec, input, at, guard), ...completionAudit(job, spec, 'failed', at, guard, { error_code: code })])
  }

  /**
   * Admin cancel (spec/state-machines.md "Cancel rules"): the job becomes cancelled with JOB_CANCELLED and the failure
   * effects of the resources it moved or that were created for it, plus the job_cancel audit row, in one batch.
   */
  async cancel(jobId: string, userId: string): Promise<{ outcome: 'cancelled'; wasRunning: boolean } | { outcome: 'not_found' } | { outcome: 'not_cancellable'; status: string }> {
    for (let tries = 0; tries < 5; tries++) {
      const job = await getJobRow(this.db, jobId)
      if (!job) return { outcome: 'not_found' }
      if (job.status !== 'queued' && job.status !== 'running') return { outcome: 'not_cancellable', status: job.status }
      const spec = specOf(job)
      const at = jobClockIso()
      const started = job.status === 'running' || job.attempt_count > 0
      const input = { code: 'JOB_CANCELLED', started, precondition: false }
      const done = await cancelJobRow(this.db, job, at, (guard) => [
        ...failureStatements(job, spec, input, at, guard),
        ...completionAudit(job, spec, 'cancelled', at, guard),
        auditStatement(userId, 'job_cancel', 'job', job.id, 'succeeded', job.id, { job_type: job.job_type, previous_status: job.status }, at, guard),
      ])
      if (done) return { outcome: 'cancelled', wasRunning: job.status === 'running' }
    }
    throw new Error(`job ${jobId} kept changing while it was being cancelled`)
  }

  isRetryable(code: JobErrorCode): boolean {
    return errorClass(code) === 'retryable'
  }
}
