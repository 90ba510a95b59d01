// The webhook delivery service, started and stopped with the scheduler: turns committed job status changes into
// delivery rows (one per subscribed endpoint and event) and sends due deliveries, signed, with bounded retries.
// Sending never runs inside the job engine: a slow receiver holds one of a few delivery slots, never a job.
import crypto from 'node:crypto'
import type { Db } from '../store/db.js'
import type { Config } from '../config.js'
import type { Logger } from '../logging.js'
import type { SecretStore } from '../secrets/secret-store.js'
import type { JobStatusChange, JobStatusEvents } from '../jobs/job-status-events.js'
import { getJobRow } from '../store/jobs.js'
import { findBackup } from '../store/backups.js'
import { jobView } from '../jobs/job-service.js'
import { backupView } from '../backups/backup-service.js'
import {
  allWebhooks, dueDeliveries, findWebhook, insertDeliveryStatement, leaseDelivery, nextDueAt, recordAttemptStatements,
  type DeliveryRow, type DeliveryStatus,
} from '../store/webhooks.js'
import { eventsOf, subscribes, signature, HEADERS, type WebhookEvent } from './webhook-events.js'
import { secretNameOf } from './webhook-service.js'
import { postWebhook } from './post-webhook.js'
import { nowIso, isoPlus } from '../clock.js'

/** Deliveries sent at the same time; the rest wait for a free slot. */
const MAX_IN_FLIGHT = 4
/** Longest sleep between looks at the table (a delivery another process wrote, a lease that ran out). */
const MAX_IDLE_MS = 30_000
/** Lease beyond the try's timeout before another process (or this one after a crash) may send the delivery again. */
const LEASE_MARGIN_MS = 30_000

export class WebhookDeliveries {
  private readonly log: Logger
  private unsubscribe?: () => void
  private recording: Promise<void> = Promise.resolve()
  private readonly inFlight = new Map<string, Promise<void>>()
  private controller = new AbortController()
  private timer?: NodeJS.Timeout
  private running = false
  private pumping = false
  private pumpAgain = false

  constructor(
    private readonly db: Db, private readonly config: Config, private readonly secrets: SecretStore, logger: Logger,
    private readonly statusEvents: JobStatusEvents,
  ) {
    this.log = logger.child({ component: 'webhooks' })
  }

  get maxAttempts(): number {
    return this.config.webhooks.retryBackoffSeconds.length + 1
  }

  start(): void {
    if (this.running) return
    this.running = true
    this.controller = new AbortController()
    this.unsubscribe = this.statusEvents.subscribe((change) => {
      this.recording = this.recording
        .then(() => this.record(change))
        .catch((error) => this.log.error({ err: error, job_id: change.jobId }, 'recording webhook deliveries failed'))
        .then(() => this.wake())
    })
    // Deliveries a previous process left pending are sent now.
    this.wake()
  }

  /** Stops recording and sending; a try cut off by the stop is not counted and is sent again at the next start. */
  async stop(): Promise<void> {
    if (!this.running) return
    this.running = false
    this.unsubscribe?.()
    clearTimeout(this.timer)
    await this.recording
    this.controller.abort()
    await Promise.all(this.inFlight.values())
  }

  /** One delivery row per endpoint subscribed to each event the change raises, with its body fixed now. */
  private async record(change: JobStatusChange): Promise<void> {
    const events = eventsOf(change)
    if (events.length === 0) return
    const hooks = await allWebhooks(this.db)
    const pairs = events.flatMap((event) => hooks.filter((hook) => subscribes(JSON.parse(hook.events_json) as string[], event)).map((hook) => ({ hook, event })))
    if (pairs.length === 0) return
    const job = await getJobRow(this.db, change.jobId)
    if (!job) return
    const data: Record<WebhookEvent, () => Promise<Record<string, unknown>>> = {
      'job.succeeded': async () => ({ job: jobView(job) }),
      'job.failed': async () => ({ job: jobView(job) }),
      'job.cancelled': async () => ({ job: jobView(job) }),
      'backup.completed': () => this.backupData(job),
      'backup.failed': () => this.backupData(job),
    }
    const created = nowIso()
    const statements = []
    for (const { hook, event } of pairs) {
      const id = crypto.randomUUID()
      // The body is fixed at recording time: every retry sends the same bytes (only the signature's timestamp changes).
      const body = JSON.stringify({ id, type: event, created_at: change.at, data: await data[event]() })
      statements.push(insertDeliveryStatement({ id, webhook_id: hook.id, event, job_id: job.id, body, max_attempts: this.maxAttempts, created_at: created }))
    }
    await this.db.batch(statements, 'write')
  }

  private async backupData(job: NonNullable<Awaited<ReturnType<typeof getJobRow>>>): Promise<Record<string, unknown>> {
    const backupId = (JSON.parse(job.payload_json) as { backup_id?: string }).backup_id
    const backup = backupId ? await findBackup(this.db, backupId) : undefined
    return { backup: backup ? backupView(backup) : null, job: jobView(job) }
  }

  private wake(): void {
    if (!this.running) return
    void this.pump()
  }

  private async pump(): Promise<void> {
    if (this.pumping) { this.pumpAgain = true; return }
    this.pumping = true
    try {
      do {
        this.pumpAgain = false
        const free = MAX_IN_FLIGHT - this.inFlight.size
        if (free <= 0 || !this.running) break
        const now = nowIso()
        const due = await dueDeliveries(this.db, now, free, [...this.inFlight.keys()])
        for (const row of due) {
          const leaseUntil = isoPlus(now, this.config.webhooks.timeoutSeconds * 1000 + LEASE_MARGIN_MS)
          if (!(await leaseDelivery(this.db, row, leaseUntil, now))) continue
          const sending = this.send(row, leaseUntil)
            .catch((error) => this.log.error({ err: error, delivery_id: row.id, webhook_id: row.webhook_id }, 'webhook delivery failed unexpectedly'))
            .finally(() => { this.inFlight.delete(row.id); this.wake() })
          this.inFlight.set(row.id, sending)
        }
      } while (this.pumpAgain && this.running)
      await this.scheduleNext()
    } catch (error) {
      this.log.error({ err: error }, 'webhook delivery loop failed')
      this.schedule(MAX_IDLE_MS)
    } finally {
      this.pumping = false
    }
  }

  private async scheduleNext(): Promise<void> {
    const next = await nextDueAt(this.db)
    const wait = next === null ? MAX_IDLE_MS : Math.min(MAX_IDLE_MS, Math.max(20, Date.parse(next) - Date.now()))
    this.schedule(wait)
  }

  private schedule(ms: number): void {
    clearTimeout(this.timer)
    if (!this.running) return
    this.timer = setTimeout(() => this.wake(), ms)
    this.timer.unref?.()
  }

  private async send(row: DeliveryRow, leaseUntil: string): Promise<void> {
    const hook = await findWebhook(this.db, row.webhook_id)
    if (!hook) return // deleted meanwhile, with its deliveries
    const secret = await this.secrets.get(secretNameOf(hook.id))
    const attempt = Number(row.attempt_count) + 1
    const log = this.log.child({ webhook_id: hook.id, delivery_id: row.id, event: row.event, attempt })
    const startedAt = nowIso()
    let result: { responseCode: number | null; error: string | null; durationMs: number }
    if (secret === null) {
      result = { responseCode: null, error: 'the signing secret of this webhook is missing from the secrets store', durationMs: 0 }
    } else {
      const timestamp = Math.floor(Date.now() / 1000)
      result = await postWebhook(hook.url, row.body, {
        'user-agent': 'Pressluft-Webhooks/1',
        [HEADERS.delivery]: row.id,
        [HEADERS.event]: row.event,
        [HEADERS.timestamp]: String(timestamp),
        [HEADERS.signature]: `v1=${signature(secret, timestamp, row.body)}`,
      }, { timeoutMs: this.config.webhooks.timeoutSeconds * 1000, allowLoopback: this.config.webhooks.allowLoopback, signal: this.controller.signal })
      if (this.controller.signal.aborted) {
        // Cut off by shutdown: not an attempt of the receiver's; release the lease so the next start sends it at once.
        await this.db.execute({ sql: `UPDATE webhook_deliveries SET next_attempt_at = ? WHERE id = ? AND status = 'pending' AND next_attempt_at = ?`, args: [nowIso(), row.id, leaseUntil] })
        return
      }
    }
    const ok = result.responseCode !== null && result.responseCode >= 200 && result.responseCode < 300
    const error = ok ? null : result.error ?? `the receiver answered ${result.responseCode}`
    const status: DeliveryStatus = ok ? 'succeeded' : attempt >= Number(row.max_attempts) || secret === null ? 'failed' : 'pending'
    const at = nowIso()
    const backoff = this.config.webhooks.retryBackoffSeconds
    const nextAttemptAt = status === 'pending' ? isoPlus(at, backoff[Math.min(attempt - 1, backoff.length - 1)] * 1000) : null
    await this.db.batch(recordAttemptStatements({
      attemptId: crypto.randomUUID(), deliveryId: row.id, attempt, startedAt, durationMs: result.durationMs,
      responseCode: result.responseCode, error, status, nextAttemptAt, at,
    }), 'write')
    const fields = { response_code: result.responseCode, duration_ms: result.durationMs, outcome: status, next_attempt_at: nextAttemptAt }
    if (ok) log.info(fields, 'webhook delivered')
    else log.warn({ ...fields, error }, status === 'failed' ? 'webhook delivery failed for good' : 'webhook delivery failed; will retry')
  }
}
