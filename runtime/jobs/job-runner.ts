// The contract between the scheduler and the per-job runner (runtime/jobs/run-attempt.ts, or a stand-in in tests and benchmarks).
import type { Config } from '../config.js'
import type { Db } from '../store/db.js'
import type { SecretStore } from '../secrets/secret-store.js'
import type { Logger } from '../logging.js'
import type { JobRow } from '../store/jobs.js'
import type { JobErrorCode } from './outcomes.js'
import type { ProviderTiming } from '../providers/hetzner.js'
import type { JobEventHub } from './job-events.js'

export type JobOutcome =
  | { ok: true; result: Record<string, unknown> | null; carry?: Record<string, unknown> }
  | { ok: false; code: JobErrorCode; message: string; notBeforeMs?: number }

/** The part of the runtime services a runner uses. */
export interface RunnerServices {
  config: Config
  db: Db
  secrets: SecretStore
  /** Live progress of jobs (absent in runners' stand-ins that do not need it). */
  jobEvents?: JobEventHub
}

export interface RunnerContext {
  services: RunnerServices
  /** Fires on cancel, on the control plane's shutdown and on stale-run recovery. */
  signal: AbortSignal
  log: Logger
  /** Scheduler-level Ansible overrides (tests point these at fixture playbooks and inventories). */
  ansible: AnsibleOptions
}

export interface AnsibleOptions {
  /** Directory of the playbooks; default <repo>/ansible/playbooks. */
  playbooksDir?: string
  /** Environment added to ansible-playbook's (tests: ANSIBLE_* settings). */
  extraEnv?: Record<string, string>
  /** Lines appended to the host line of inventory.ini (tests: a closed port for the unreachable case). */
  inventoryHostVars?: Record<string, string>
  /** Grace between SIGTERM and SIGKILL of the playbook's process group; 15 s by default. */
  killGraceMs?: number
  /** Provider polling intervals and limits (tests shorten them against the Hetzner double). */
  providerTiming?: Partial<ProviderTiming>
}

export type JobRunner = (job: JobRow, ctx: RunnerContext) => Promise<JobOutcome>

/** A failed attempt; `notBeforeMs`: a retry must not start sooner than this (a provider's rate limit said so). */
export function jobFailure(code: JobErrorCode, message: string, notBeforeMs?: number): JobOutcome {
  return notBeforeMs === undefined ? { ok: false, code, message } : { ok: false, code, message, notBeforeMs }
}
