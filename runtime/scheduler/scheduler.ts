// The control plane's job loop: recurring schedules, claims up to maxConcurrentJobs, one runner per job, crash recovery.
import os from 'node:os'
import type { Config } from '../config.js'
import type { Logger } from '../logging.js'
import type { Services } from '../services.js'
import type { JobControl } from '../jobs/job-control.js'
import type { AnsibleOptions, JobOutcome, JobRunner } from '../jobs/job-runner.js'
import type { ScheduledFunction } from './define-schedule.js'
import type { JobRow } from '../store/jobs.js'
import type { JobQueue } from '../jobs/job-queue.js'
import { AbortReason } from '../jobs/abort-reason.js'
import { recoverStaleJobs } from './recovery.js'

export interface SchedulerOptions {
  runner: JobRunner
  schedules: ScheduledFunction[]
  ansible?: AnsibleOptions
  /** `<os.hostname()>:<pid>` by default (docs/architecture.md "Queueing and claiming"). */
  workerId?: string
  maxConcurrentJobs?: number
  pollIntervalMs?: number
  recoveryIntervalMs?: number
}

interface ActiveRun {
  job: JobRow
  controller: AbortController
  done: Promise<void>
}

export function defaultWorkerId(): string {
  return `${os.hostname()}:${process.pid}`
}

export class Scheduler implements JobControl {
  readonly workerId: string
  private services?: Services
  private queue?: JobQueue
  private readonly active = new Map<string, ActiveRun>()
  private started = false
  private stopping = false
  private ticking = false
  private tickAgain = false
  private lastScheduleRun = 0
  private pollTimer?: NodeJS.Timeout
  private recoveryTimer?: NodeJS.Timeout
  private idleWaiters: (() => void)[] = []
  private readonly log: Logger

  constructor(private readonly config: Config, logger: Logger, private readonly options: SchedulerOptions) {
    this.workerId = options.workerId ?? defaultWorkerId()
    this.log = logger.child({ component: 'scheduler' })
  }

  /** Services are built after the scheduler because they hold it as their JobControl. */
  attach(services: Services): void {
    this.services = services
    this.queue = services.jobQueue
  }

  get maxConcurrent(): number {
    return this.options.maxConcurrentJobs ?? this.config.maxConcurrentJobs
  }

  /** Recovers runs a previous process left behind, then claims on every poll and wake. */
  async start(): Promise<void> {
    if (!this.services) throw new Error('scheduler started before attach()')
    await this.recover(true)
    this.started = true
    this.pollTimer = setInterval(() => this.wake(true), this.options.pollIntervalMs ?? this.config.pollIntervalMs)
    this.recoveryTimer = setInterval(() => { void this.recover(false) }, this.options.recoveryIntervalMs ?? 60_000)
    this.pollTimer.unref?.()
    this.recoveryTimer.unref?.()
    this.services.webhookDeliveries.start()
    this.wake(true)
  }

  wake(poll = false): void {
    if (!this.started || this.stopping) return
    if (poll) this.lastScheduleRun = 0
    void this.tick()
  }

  abortRunning(jobId: string): void {
    this.active.get(jobId)?.controller.abort(new AbortReason('cancel'))
  }

  /** Sites and nodes of this process's runners, which stay busy until their playbook is gone. */
  private busy() {
    const nodes = new Set<string>()
    const sites = new Set<string>()
    for (const run of this.active.values()) {
      if (run.job.node_id) nodes.add(run.job.node_id)
      if (run.job.site_id) sites.add(run.job.site_id)
    }
    return { nodes: [...nodes], sites: [...sites] }
  }

  private async tick(): Promise<void> {
    if (this.ticking) { this.tickAgain = true; return }
    this.ticking = true
    try {
      do {
        this.tickAgain = false
        await this.runSchedules()
        await this.claimAvailable()
      } while (this.tickAgain && !this.stopping)
    } catch (error) {
      this.log.error({ err: error }, 'scheduler tick failed')
    } finally {
      this.ticking = false
      this.notifyIdle()
    }
  }

  /** Scheduled functions decide from the database; run on poll ticks, not on every wake. */
  private async runSchedules(): Promise<void> {
    const interval = this.options.pollIntervalMs ?? this.config.pollIntervalMs
    if (Date.now() - this.lastScheduleRun < interval) return
    this.lastScheduleRun = Date.now()
    for (const schedule of this.options.schedules) {
      try {
        const ids = await schedule.run(this.services!, new Date())
        if (ids.length) this.log.info({ schedule: schedule.name, job_ids: ids }, 'scheduled jobs enqueued')
      } catch (error) {
        this.log.error({ err: error, schedule: schedule.name }, 'scheduled function failed')
      }
    }
  }

  private async claimAvailable(): Promise<void> {
    while (!this.stopping && this.active.size < this.maxConcurrent) {
      const claim = await this.queue!.claimNext(this.workerId, this.busy())
      if (claim.outcome === 'none') return
      if (claim.outcome === 'running') this.dispatch(claim.job)
    }
  }

  private dispatch(job: JobRow): void {
    const controller = new AbortController()
    const run: ActiveRun = { job, controller, done: Promise.resolve() }
    run.done = this.runOne(job, controller).finally(() => {
      this.active.delete(job.id)
      this.wake()
      this.notifyIdle()
    })
    this.active.set(job.id, run)
  }

  private async runOne(job: JobRow, controller: AbortController): Promise<void> {
    const log = this.log.child({ job_id: job.id, job_type: job.job_type, site_id: job.site_id, node_id: job.node_id, attempt: job.attempt_count })
    log.info('job started')
    let outcome: JobOutcome
    try {
      outcome = await this.options.runner(job, { services: this.services!, signal: controller.signal, log, ansible: this.options.ansible ?? {} })
    } catch (error) {
      log.error({ err: error }, 'runner failed')
      outcome = { ok: false, code: 'INTERNAL_ERROR', message: `Runner failure: ${error instanceof Error ? error.message : String(error)}` }
    }
    const reason = controller.signal.reason
    // At shutdown the row stays running: the next start recovers it with WORKER_LOST.
    if (reason instanceof AbortReason && reason.kind === 'shutdown') return
    try {
      const applied = await this.queue!.complete(job, { lockedBy: job.locked_by!, lockedAt: job.locked_at! }, outcome)
      log.info({ outcome: outcome.ok ? 'succeeded' : outcome.code, applied }, applied ? 'job attempt finished' : 'job attempt finished after the job was cancelled or recovered; nothing written')
    } catch (error) {
      log.error({ err: error }, 'completion write failed; the job will be recovered as stale')
    }
  }

  /** Crash recovery (start-up and every minute). */
  async recover(startup: boolean): Promise<void> {
    try {
      await recoverStaleJobs({
        services: this.services!, queue: this.queue!, workerId: this.workerId, startup, log: this.log,
        activeRuns: () => [...this.active.values()].map((r) => r.job),
        abortLocal: (jobId) => this.active.get(jobId)?.controller.abort(new AbortReason('stale')),
      })
    } catch (error) {
      this.log.error({ err: error }, 'crash recovery failed')
    }
  }

  /** Resolves when no tick and no runner is active (tests and benchmarks). */
  async waitForIdle(): Promise<void> {
    while (this.ticking || this.active.size > 0) {
      await new Promise<void>((resolve) => this.idleWaiters.push(resolve))
    }
  }

  private notifyIdle(): void {
    const waiters = this.idleWaiters
    this.idleWaiters = []
    for (const resolve of waiters) resolve()
  }

  get activeJobIds(): string[] {
    return [...this.active.keys()]
  }

  /** Graceful stop: no new claims, wait up to graceMs for runners, then kill the remaining playbooks. */
  async stop(graceMs = 60_000): Promise<void> {
    this.stopping = true
    clearInterval(this.pollTimer)
    clearInterval(this.recoveryTimer)
    const all = () => Promise.all([...this.active.values()].map((r) => r.done))
    let timer: NodeJS.Timeout | undefined
    const timedOut = await Promise.race([
      all().then(() => false),
      new Promise<boolean>((resolve) => { timer = setTimeout(() => resolve(true), graceMs) }),
    ])
    clearTimeout(timer)
    if (timedOut) {
      this.log.warn({ job_ids: this.activeJobIds }, 'killing the playbooks still running at shutdown')
      for (const run of this.active.values()) run.controller.abort(new AbortReason('shutdown'))
      // The runners SIGKILL their playbooks at once; do not let one stuck runner hold the exit.
      await Promise.race([all(), new Promise((resolve) => setTimeout(resolve, 10_000).unref())])
    }
    while (this.ticking) await new Promise<void>((resolve) => this.idleWaiters.push(resolve))
    // After the runners: their last status changes still become deliveries (sent at the next start).
    await this.services?.webhookDeliveries.stop()
  }
}
