// Webhook endpoints of the API: register (secret generated or given, shown once), list, delete, and their deliveries.
import crypto from 'node:crypto'
import type { Db } from '../store/db.js'
import { inTransaction } from '../store/db.js'
import type { Config } from '../config.js'
import type { SecretStore } from '../secrets/secret-store.js'
import type { Actor } from '../auth/auth-service.js'
import { ApiError } from '../contracts/errors.js'
import { insertAudit } from '../store/audit.js'
import { nowIso } from '../clock.js'
import { mapPage, pageRequest, type Page } from '../store/pagination.js'
import {
  attemptsOf, deleteWebhookRows, findWebhook, insertWebhookStatement, listDeliveryRows, listWebhookRows,
  type AttemptRow, type DeliveryRow, type WebhookRow,
} from '../store/webhooks.js'
import { generateSecret, type WebhookEvent, type WebhookEventFilter } from './webhook-events.js'
import { webhookUrlProblem } from './webhook-url.js'

export interface WebhookView {
  id: string; url: string; events: WebhookEventFilter[]; description: string | null; created_at: string; updated_at: string
}

export interface DeliveryView {
  id: string; webhook_id: string; event: WebhookEvent; job_id: string | null; status: DeliveryRow['status']
  attempt_count: number; max_attempts: number; next_attempt_at: string | null; last_response_code: number | null
  last_error: string | null; created_at: string; completed_at: string | null
  attempts: { attempt: number; started_at: string; duration_ms: number; response_code: number | null; error: string | null }[]
}

export interface CreateWebhookInput { url: string; events: WebhookEventFilter[]; description?: string | null; secret?: string }

export function secretNameOf(webhookId: string): string {
  return `webhooks/${webhookId}/signing_secret`
}

export function webhookView(row: WebhookRow): WebhookView {
  return {
    id: row.id, url: row.url, events: JSON.parse(row.events_json) as WebhookEventFilter[], description: row.description,
    created_at: row.created_at, updated_at: row.updated_at,
  }
}

function deliveryView(row: DeliveryRow, attempts: AttemptRow[]): DeliveryView {
  return {
    id: row.id, webhook_id: row.webhook_id, event: row.event as WebhookEvent, job_id: row.job_id, status: row.status,
    attempt_count: Number(row.attempt_count), max_attempts: Number(row.max_attempts),
    // A lease is an internal detail: a delivery that is no longer pending has no next attempt.
    next_attempt_at: row.status === 'pending' ? row.next_attempt_at : null,
    last_response_code: row.last_response_code === null ? null : Number(row.last_response_code), last_error: row.last_error,
    created_at: row.created_at, completed_at: row.completed_at,
    attempts: attempts.map((a) => ({
      attempt: Number(a.attempt), started_at: a.started_at, duration_ms: Number(a.duration_ms),
      response_code: a.response_code === null ? null : Number(a.response_code), error: a.error,
    })),
  }
}

export class WebhookService {
  constructor(private readonly db: Db, private readonly config: Config, private readonly secrets: SecretStore) {}

  /** Registers an endpoint; the answer is the only place the signing secret is ever returned. */
  async create(input: CreateWebhookInput, actor: Actor): Promise<WebhookView & { secret: string }> {
    const problem = webhookUrlProblem(input.url, this.config.webhooks.allowLoopback)
    if (problem) throw new ApiError('bad_request', 'Request validation failed', { issues: [{ path: 'url', message: problem }] })
    const events = [...new Set(input.events)]
    const id = crypto.randomUUID()
    const now = nowIso()
    const secret = input.secret ?? generateSecret()
    const row: WebhookRow = {
      id, url: input.url, events_json: JSON.stringify(events), description: input.description ?? null, created_by: actor.id,
      created_at: now, updated_at: now,
    }
    // The secret is stored first: a delivery can only be created for a committed row, and then the secret exists.
    await this.secrets.set(secretNameOf(id), secret)
    try {
      await inTransaction(this.db, async (tx) => {
        await tx.execute(insertWebhookStatement(row))
        // The URL is left out of the audit row: receivers such as chat webhooks carry a token in their path.
        await insertAudit(tx, {
          user_id: actor.id, action: 'webhook_create', resource_type: 'settings', resource_id: id, result: 'succeeded',
          details: { webhook_id: id, events, secret_source: input.secret === undefined ? 'generated' : 'given' },
        })
      })
    } catch (error) {
      this.secrets.delete(secretNameOf(id))
      throw error
    }
    return { ...webhookView(row), secret }
  }

  async list(query: { limit?: number; cursor?: string }): Promise<Page<WebhookView>> {
    return mapPage(await listWebhookRows(this.db, pageRequest(query)), webhookView)
  }

  /** Deletes the endpoint, its deliveries (pending ones are never sent) and its signing secret. */
  async delete(id: string, actor: Actor): Promise<void> {
    await inTransaction(this.db, async (tx) => {
      if (!(await findWebhook(tx, id))) throw new ApiError('not_found', 'Webhook not found')
      await deleteWebhookRows(tx, id)
      await insertAudit(tx, { user_id: actor.id, action: 'webhook_delete', resource_type: 'settings', resource_id: id, result: 'succeeded', details: { webhook_id: id } })
    })
    this.secrets.delete(secretNameOf(id))
  }

  /** Deliveries of an endpoint, newest first, each with its attempts in order. */
  async deliveries(id: string, query: { limit?: number; cursor?: string }): Promise<Page<DeliveryView>> {
    const request = pageRequest(query)
    if (!(await findWebhook(this.db, id))) throw new ApiError('not_found', 'Webhook not found')
    const page = await listDeliveryRows(this.db, id, request)
    const attempts = await attemptsOf(this.db, page.items.map((d) => d.id))
    const byDelivery = new Map<string, AttemptRow[]>()
    for (const a of attempts) byDelivery.set(a.delivery_id, [...(byDelivery.get(a.delivery_id) ?? []), a])
    return { items: page.items.map((d) => deliveryView(d, byDelivery.get(d.id) ?? [])), next_cursor: page.next_cursor }
  }
}
