// Crash recovery (docs/architecture.md "Crash recovery"): stale running jobs get WORKER_LOST (requeue or fail), leftover playbooks and run dirs go.
import os from 'node:os'
import type { Logger } from '../logging.js'
import type { Services } from '../services.js'
import type { JobQueue } from '../jobs/job-queue.js'
import { findStaleJobs, runningJobIds, type JobRow } from '../store/jobs.js'
import { listRunDirs, readRecordedPid, removeRunDir } from '../ansible/run-dir.js'
import { isAnsiblePlaybook, killTree } from '../ansible/process-tree.js'
import { jobClockIso } from '../jobs/job-clock.js'
import { longestJobTimeoutSeconds } from '../jobs/registry.js'

export interface RecoveryInput {
  services: Services
  queue: JobQueue
  workerId: string
  startup: boolean
  log: Logger
  /** Jobs this process is running right now: their run dirs are not orphans. */
  activeRuns: () => JobRow[]
  abortLocal: (jobId: string) => void
}

/** Kills the playbook recorded in a run dir, but only if that pid still is an ansible-playbook. */
function killRecordedPlaybook(dir: string, log: Logger): void {
  const pid = readRecordedPid(dir)
  if (pid && isAnsiblePlaybook(pid)) {
    log.warn({ pid, run_dir: dir }, 'killing a leftover ansible-playbook process group')
    killTree(pid)
  }
}

export async function recoverStaleJobs(input: RecoveryInput): Promise<void> {
  const { services, queue, log } = input
  const { config, db } = services
  const timeoutMs = (longestJobTimeoutSeconds(config) + 5 * 60) * 1000
  const stale = await findStaleJobs(db, {
    hostPrefix: `${os.hostname()}:`, workerId: input.workerId, startup: input.startup,
    lockedBefore: new Date(Date.now() - timeoutMs).toISOString(),
  })
  const runs = listRunDirs(config.dataDir)
  for (const job of stale) {
    input.abortLocal(job.id)
    for (const run of runs.filter((r) => r.jobId === job.id)) killRecordedPlaybook(run.dir, log)
    const applied = await queue.fail(job, { lockedBy: job.locked_by!, lockedAt: job.locked_at! }, 'WORKER_LOST',
      `The runner of attempt ${job.attempt_count} (${job.locked_by}) stopped without finishing; recovered at ${jobClockIso()}`)
    if (applied) log.warn({ job_id: job.id, job_type: job.job_type, attempt: job.attempt_count, locked_by: job.locked_by }, 'recovered a stale job (WORKER_LOST)')
  }
  // Orphaned run directories: not an attempt this process is running.
  const local = new Set(input.activeRuns().map((job) => `${job.id}-${job.attempt_count}`))
  const stillRunning = input.startup ? new Set<string>() : await runningJobIds(db)
  for (const run of runs) {
    if (local.has(`${run.jobId}-${run.attempt}`)) continue
    // Another process's live attempt (unsupported, but never delete what a live runner uses).
    if (stillRunning.has(run.jobId) && !stale.some((j) => j.id === run.jobId)) continue
    killRecordedPlaybook(run.dir, log)
    removeRunDir(run.dir)
    log.info({ run_dir: run.dir }, 'removed an orphaned run directory')
  }
}
