// The contract between the scheduler and the per-job runner function (functions/jobs/run-job.ts, or a no-op in benchmarks).
import type { Services } from '../services.js'
import type { Logger } from '../logging.js'
import type { JobRow } from '../store/jobs.js'
import type { JobErrorCode } from './outcomes.js'
import type { ProviderTiming } from '../providers/hetzner.js'

export type JobOutcome =
  | { ok: true; result: Record<string, unknown> | null; expiredBackupIds?: string[] }
  | { ok: false; code: JobErrorCode; message: string }

export interface RunnerContext {
  services: Services
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

/** Marks the per-job runner function module (functions/jobs/run-job.ts), listed in hono.config.ts as `jobRunner`. */
export function defineJobRunner(runner: JobRunner): JobRunner {
  return runner
}
