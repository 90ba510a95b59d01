// Queue operations of the job engine: claim (with preconditions and start transition), completion, cancel and recovery.
// It asks the job's type module (runtime/jobs/types/) for the effects and hands the store finished statement lists.
import crypto from 'node:crypto'
import type { InStatement } from '@libsql/client'
import type { Db } from '../store/db.js'
import type { Logger } from '../logging.js'
import {
  claimJob, completeJob, cancelJobRow, failQueuedJob, findClaimCandidate, getJobRow, type Busy, type JobRow, type JobWrite,
} from '../store/jobs.js'
import { jobGuard, payloadOf } from '../store/job-guard.js'
import {
  auditStatement, completionAudit, failureStatements, nodeSeen, preconditionCase, statusChanges, unreachableNode,
} from '../store/job-effects.js'
import { isJobType, jobTypeOf } from './registry.js'
import { decideFailure, errorClass, type JobErrorCode } from './outcomes.js'
import type { JobOutcome } from './job-runner.js'
import { jobClockIso } from './job-clock.js'
import { JobStatusEvents, type JobStatus } from './job-status-events.js'

export const ERROR_MESSAGE_LIMIT = 10 * 1024

export interface QueueSettings {
  maxAttempts: number
  backoffSeconds: number[]
  gateFreshnessMinutes: number
}

export type ClaimAttempt =
  | { outcome: 'running'; job: JobRow }
  | { outcome: 'precondition_failed'; job: JobRow }
  | { outcome: 'none' }

/** Keeps the last 10 KiB (by UTF-8 bytes) of a message. */
export function tailBytes(text: string, limit = ERROR_MESSAGE_LIMIT): string {
  const buf = Buffer.from(text, 'utf8')
  if (buf.length <= limit) return text
  return buf.subarray(buf.length - limit).toString('utf8').replace(/^\uFFFD+/, '')
}

export class JobQueue {
  constructor(
    private readonly db: Db, private readonly settings: QueueSettings, private readonly log: Logger,
    readonly statusEvents = new JobStatusEvents(),
  ) {}

  private announce(job: JobRow, status: JobStatus, errorCode: string | null, at: string): void {
    this.statusEvents.emit({ jobId: job.id, jobType: job.job_type, status, errorCode, at })
  }

  /**
   * Claims the next eligible job, or reports that none is eligible. A claim that loses a race (an admin cancel or an
   * API write between the pick and the batch) simply picks again.
   */
  async claimNext(workerId: string, busy: Busy): Promise<ClaimAttempt> {
    for (let tries = 0; tries < 5; tries++) {
      const candidate = await findClaimCandidate(this.db, new Date().toISOString(), busy)
      if (!candidate) return { outcome: 'none' }
      const at = jobClockIso()
      if (!isJobType(candidate.job_type)) {
        // Only a hand-written row can get here (acceptJob refuses unknown types); it must not block the queue.
        await failQueuedJob(this.db, candidate, 'INTERNAL_ERROR', `No module runtime/jobs/types/ registers the job type ${candidate.job_type}`, at)
        this.log.error({ job_id: candidate.id, job_type: candidate.job_type }, 'failed a queued job of an unknown type')
        continue
      }
      const spec = jobTypeOf(candidate.job_type)
      const gateSince = new Date(Date.parse(at) - this.settings.gateFreshnessMinutes * 60_000).toISOString()
      // An earlier attempt's start transition already moved the resources this one finds.
      const startedBefore = candidate.attempt_count > 0
      const failed = jobGuard(candidate.id, 'failed', at)
      const result = await claimJob(this.db, {
        job: candidate, workerId, at, busy,
        precondition: preconditionCase(candidate, spec, at, gateSince),
        start: statusChanges(candidate, spec.start, at, jobGuard(candidate.id, 'running', at)),
        preconditionFailure: [
          ...failureStatements(candidate, spec, { code: 'PRECONDITION', started: startedBefore, precondition: true }, at, failed),
          ...completionAudit(candidate, spec.audit, 'failed', at, failed),
        ],
      })
      if (result.outcome === 'running') {
        this.announce(result.job, 'running', null, at)
        return { outcome: 'running', job: result.job }
      }
      if (result.outcome === 'failed') {
        this.announce(result.job, 'failed', result.job.error_code, at)
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
    if (!outcome.ok) return this.fail(job, lock, outcome.code, outcome.message, { notBeforeMs: outcome.notBeforeMs })
    const spec = jobTypeOf(job.job_type)
    const at = jobClockIso()
    const guard = jobGuard(job.id, 'succeeded', at)
    const effects: InStatement[] = [
      ...await spec.onSuccess?.({
        db: this.db, job, payload: payloadOf(job), at, guard, followUpId: crypto.randomUUID(), maxAttempts: this.settings.maxAttempts,
        result: outcome.result, carry: outcome.carry ?? {},
      }) ?? [],
      ...statusChanges(job, spec.success, at, guard),
      ...nodeSeen(job, at, guard),
      ...completionAudit(job, spec.audit, 'succeeded', at, guard),
    ]
    const applied = await completeJob(this.db, job, lock, { status: 'succeeded', errorCode: null, errorMessage: null, runAfter: null }, at, effects)
    if (applied) this.announce(job, 'succeeded', null, at)
    return applied
  }

  /**
   * Requeue with backoff while attempts remain for a retryable code, else final failure with its effects. `notBeforeMs`:
   * a provider's rate-limit wait, which the retry also respects (decideFailure).
   */
  async fail(job: JobRow, lock: { lockedBy: string; lockedAt: string }, code: JobErrorCode, message: string,
    { at = jobClockIso(), notBeforeMs }: { at?: string; notBeforeMs?: number } = {}): Promise<boolean> {
    const spec = jobTypeOf(job.job_type)
    const decision = decideFailure(code, job.attempt_count, job.max_attempts, this.settings.backoffSeconds, notBeforeMs)
    const errorMessage = tailBytes(message)
    if (decision.status === 'queued') {
      const write: JobWrite = { status: 'queued', errorCode: code, errorMessage, runAfter: new Date(Date.parse(at) + decision.runAfterMs).toISOString() }
      const requeued = await completeJob(this.db, job, lock, write, at, statusChanges(job, spec.retry, at, jobGuard(job.id, 'queued', at)))
      if (requeued) this.announce(job, 'queued', code, at)
      return requeued
    }
    const guard = jobGuard(job.id, 'failed', at)
    const own = spec.onFailure?.({
      db: this.db, job, payload: payloadOf(job), at, guard, followUpId: crypto.randomUUID(), maxAttempts: this.settings.maxAttempts, code,
    })
    const effects = own ? [...own, ...unreachableNode(job, code, at, guard)] : failureStatements(job, spec, { code, started: true, precondition: decision.precondition }, at, guard)
    const applied = await completeJob(this.db, job, lock, { status: 'failed', errorCode: code, errorMessage, runAfter: null }, at,
      [...effects, ...completionAudit(job, spec.audit, 'failed', at, guard, { error_code: code })])
    if (applied) this.announce(job, 'failed', code, at)
    return applied
  }

  /**
   * Admin cancel (docs/architecture.md "Cancel"): the job becomes cancelled with JOB_CANCELLED and the failure
   * effects of the resources it moved or that were created for it, plus the job_cancel audit row, in one batch.
   */
  async cancel(jobId: string, userId: string): Promise<{ outcome: 'cancelled'; wasRunning: boolean } | { outcome: 'not_found' } | { outcome: 'not_cancellable'; status: string }> {
    for (let tries = 0; tries < 5; tries++) {
      const job = await getJobRow(this.db, jobId)
      if (!job) return { outcome: 'not_found' }
      if (job.status !== 'queued' && job.status !== 'running') return { outcome: 'not_cancellable', status: job.status }
      const spec = jobTypeOf(job.job_type)
      const at = jobClockIso()
      const guard = jobGuard(job.id, 'cancelled', at)
      const started = job.status === 'running' || job.attempt_count > 0
      const input = { code: 'JOB_CANCELLED', started, precondition: false }
      const done = await cancelJobRow(this.db, job, at, [
        ...failureStatements(job, spec, input, at, guard),
        ...completionAudit(job, spec.audit, 'cancelled', at, guard),
        auditStatement(userId, 'job_cancel', 'job', job.id, 'succeeded', job.id, { job_type: job.job_type, previous_status: job.status }, at, guard),
      ])
      if (done) {
        this.announce(job, 'cancelled', 'JOB_CANCELLED', at)
        return { outcome: 'cancelled', wasRunning: job.status === 'running' }
      }
    }
    throw new Error(`job ${jobId} kept changing while it was being cancelled`)
  }

  isRetryable(code: JobErrorCode): boolean {
    return errorClass(code) === 'retryable'
  }
}
