// SQL for webhook endpoints, their deliveries and the attempts of each delivery (docs/webhooks.md).
import type { Executor, InStatement } from './db.js'
import { queryAll, queryOne, run } from './db.js'
import { selectPage, type Page, type PageRequest } from './pagination.js'

export interface WebhookRow {
  id: string; url: string; events_json: string; description: string | null; created_by: string | null
  created_at: string; updated_at: string
}

export type DeliveryStatus = 'pending' | 'succeeded' | 'failed'

export interface DeliveryRow {
  id: string; webhook_id: string; event: string; job_id: string | null; body: string; status: DeliveryStatus
  attempt_count: number; max_attempts: number; next_attempt_at: string | null; last_response_code: number | null
  last_error: string | null; created_at: string; updated_at: string; completed_at: string | null
}

export interface AttemptRow {
  id: string; delivery_id: string; attempt: number; started_at: string; duration_ms: number
  response_code: number | null; error: string | null
}

export function insertWebhookStatement(row: WebhookRow): InStatement {
  return {
    sql: `INSERT INTO webhooks (id, url, events_json, description, created_by, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)`,
    args: [row.id, row.url, row.events_json, row.description, row.created_by, row.created_at, row.updated_at],
  }
}

export async function findWebhook(ex: Executor, id: string): Promise<WebhookRow | undefined> {
  return queryOne<WebhookRow>(ex, 'SELECT * FROM webhooks WHERE id = ?', [id])
}

export async function listWebhookRows(ex: Executor, page: PageRequest): Promise<Page<WebhookRow>> {
  return selectPage<WebhookRow>(ex, { from: 'webhooks' }, page)
}

export async function allWebhooks(ex: Executor): Promise<WebhookRow[]> {
  return queryAll<WebhookRow>(ex, 'SELECT * FROM webhooks ORDER BY created_at, id')
}

/** Deletes the endpoint with its deliveries and attempts (explicitly, not relying on the foreign-key cascade). */
export async function deleteWebhookRows(ex: Executor, id: string): Promise<number> {
  await run(ex, 'DELETE FROM webhook_delivery_attempts WHERE delivery_id IN (SELECT id FROM webhook_deliveries WHERE webhook_id = ?)', [id])
  await run(ex, 'DELETE FROM webhook_deliveries WHERE webhook_id = ?', [id])
  return run(ex, 'DELETE FROM webhooks WHERE id = ?', [id])
}

export function insertDeliveryStatement(row: Pick<DeliveryRow, 'id' | 'webhook_id' | 'event' | 'job_id' | 'body' | 'max_attempts' | 'created_at'>): InStatement {
  return {
    sql: `INSERT INTO webhook_deliveries (id, webhook_id, event, job_id, body, status, attempt_count, max_attempts, next_attempt_at, created_at, updated_at)
      SELECT ?, ?, ?, ?, ?, 'pending', 0, ?, ?, ?, ? WHERE EXISTS (SELECT 1 FROM webhooks WHERE id = ?)`,
    args: [row.id, row.webhook_id, row.event, row.job_id, row.body, row.max_attempts, row.created_at, row.created_at, row.created_at, row.webhook_id],
  }
}

export async function listDeliveryRows(ex: Executor, webhookId: string, page: PageRequest): Promise<Page<DeliveryRow>> {
  return selectPage<DeliveryRow>(ex, { from: 'webhook_deliveries', where: ['webhook_id = ?'], args: [webhookId] }, page)
}

export async function attemptsOf(ex: Executor, deliveryIds: string[]): Promise<AttemptRow[]> {
  if (deliveryIds.length === 0) return []
  return queryAll<AttemptRow>(ex, `SELECT * FROM webhook_delivery_attempts WHERE delivery_id IN (${deliveryIds.map(() => '?').join(', ')})
    ORDER BY delivery_id, attempt`, deliveryIds)
}

/** Pending deliveries whose next attempt is due, oldest first. */
export async function dueDeliveries(ex: Executor, now: string, limit: number, exclude: string[]): Promise<DeliveryRow[]> {
  const notIn = exclude.length ? ` AND id NOT IN (${exclude.map(() => '?').join(', ')})` : ''
  return queryAll<DeliveryRow>(ex, `SELECT * FROM webhook_deliveries WHERE status = 'pending' AND next_attempt_at <= ?${notIn}
    ORDER BY next_attempt_at, created_at, id LIMIT ?`, [now, ...exclude, limit])
}

/** The earliest next_attempt_at of a pending delivery, to time the next wake-up. */
export async function nextDueAt(ex: Executor): Promise<string | null> {
  const row = await queryOne<{ at: string | null }>(ex, `SELECT MIN(next_attempt_at) AS at FROM webhook_deliveries WHERE status = 'pending'`)
  return row?.at ?? null
}

/**
 * Takes a lease on a due delivery: its next_attempt_at moves past the end of this attempt, so another process (or
 * this one after a crash) only sends it again once the lease ran out. 0 rows = someone else took it.
 */
export async function leaseDelivery(ex: Executor, row: DeliveryRow, leaseUntil: string, now: string): Promise<boolean> {
  return (await run(ex, `UPDATE webhook_deliveries SET next_attempt_at = ?, updated_at = ?
    WHERE id = ? AND status = 'pending' AND next_attempt_at = ?`, [leaseUntil, now, row.id, row.next_attempt_at])) === 1
}

export interface AttemptRecord {
  attemptId: string; deliveryId: string; attempt: number; startedAt: string; durationMs: number
  responseCode: number | null; error: string | null
  /** The delivery after this attempt: succeeded, failed for good, or pending again at nextAttemptAt. */
  status: DeliveryStatus; nextAttemptAt: string | null; at: string
}

export function recordAttemptStatements(r: AttemptRecord): InStatement[] {
  const done = r.status === 'pending' ? null : r.at
  return [
    {
      sql: `INSERT INTO webhook_delivery_attempts (id, delivery_id, attempt, started_at, duration_ms, response_code, error)
        SELECT ?, ?, ?, ?, ?, ?, ? WHERE EXISTS (SELECT 1 FROM webhook_deliveries WHERE id = ?)`,
      args: [r.attemptId, r.deliveryId, r.attempt, r.startedAt, r.durationMs, r.responseCode, r.error, r.deliveryId],
    },
    {
      sql: `UPDATE webhook_deliveries SET status = ?, attempt_count = ?, next_attempt_at = ?, last_response_code = ?, last_error = ?,
        updated_at = ?, completed_at = ? WHERE id = ?`,
      args: [r.status, r.attempt, r.nextAttemptAt, r.responseCode, r.error, r.at, done, r.deliveryId],
    },
  ]
}
