// The shape of a job type module (runtime/jobs/types/<job-type>.ts): everything the engine knows about one job type.
import type { z } from 'zod'
import type { InStatement } from '@libsql/client'
import type { Executor } from '../store/db.js'
import type { JobRow } from '../store/jobs.js'
import type { Guard } from '../store/job-guard.js'
import type { FailureChange, Precondition, ResourceRef, StatusChange } from '../store/job-effects.js'
import type { VarsContext, VarsPart } from '../ansible/vars-context.js'
import type { JobOutcome, RunnerContext } from './job-runner.js'

export type { FailureChange, Precondition, ResourceRef, StatusChange }

/** What success and failure effects get: the job, its parsed payload and result, and the guard of the completion write. */
export interface EffectContext {
  /** Reads before the completion batch (one job per site runs, so what it reads cannot change meanwhile). */
  db: Executor
  job: JobRow
  payload: Record<string, unknown>
  at: string
  guard: Guard
  /** Id for a follow-up job this completion may insert. */
  followUpId: string
  maxAttempts: number
}

export interface SuccessContext extends EffectContext {
  /** The playbook's result file, parsed with the module's `result` schema; null for types without one. */
  result: Record<string, unknown> | null
  /** Values the extra-vars builder kept for the success effects (VarsContext.carry). */
  carry: Record<string, unknown>
}

export interface FailureContext extends EffectContext {
  code: string
}

export interface JobTypeModule {
  /** The job_type value (snake_case); the file is types/<job-type>.ts with dashes. */
  type: string
  /**
   * Lock scope, as data: `site` jobs hold their site and node (one running job per site and per node), `global` jobs
   * (no site) hold their node only. The claim query derives both from the row's site_id and node_id.
   */
  scope: 'site' | 'global'
  /** File under ansible/playbooks/. */
  playbook: string
  /** Per-attempt budget in seconds when PRESSLUFT_JOB_TIMEOUT_SECONDS's default does not fit this type. */
  timeoutSeconds?: number
  /** Resource of the completion audit row (`<job_type>` action). */
  audit: ResourceRef
  /** Checked inside the claim (pre-operation backup, promotion gates, storage, node and site state). */
  preconditions: readonly Precondition[]
  /** Pre-existing resources moved at start; a precondition failure returns them to `from[0]`. */
  start: readonly StatusChange[]
  /** Applied when a failed attempt with a retryable error code is requeued (docs/architecture.md "Job lifecycle"). */
  retry: readonly StatusChange[]
  /** Status changes on success; the rest of the success is `onSuccess`. */
  success: readonly StatusChange[]
  /** Status changes on final failure and cancel. */
  failure: readonly FailureChange[]
  /** Job types this one enqueues as follow-ups (data for readers and tests; the effects insert them). */
  followUps?: readonly string[]
  /** Shape of the result file of data-returning playbooks. */
  result?: z.ZodType<Record<string, unknown>>
  /** Extra-vars of this type, added to the payload and the job/node vars every job gets. */
  vars(ctx: VarsContext): Promise<VarsPart>
  /**
   * Runs before the playbook (node_provision: provider acquisition); an outcome ends the attempt. Every secret it uses
   * goes through `addSecret`, so the attempt's messages and output are redacted of it.
   */
  beforePlaybook?(job: JobRow, ctx: RunnerContext, deadline: number, addSecret: (value: string) => void): Promise<JobOutcome | null>
  /** Success effects besides the status changes, as guarded statements of the completion batch. */
  onSuccess?(ctx: SuccessContext): Promise<InStatement[]>
  /** Replaces the declared failure transitions when it returns statements (health_check's rollback follow-up). */
  onFailure?(ctx: FailureContext): InStatement[] | null
}

/** Identity helper that checks a module against JobTypeModule while keeping its literal `type`. */
export function defineJobType<const T extends JobTypeModule>(module: T): T {
  return module
}
