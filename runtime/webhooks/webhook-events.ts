// The webhook event types, which job status change raises which of them, and the signature every delivery carries.
import crypto from 'node:crypto'
import type { JobStatusChange } from '../jobs/job-status-events.js'

export const WEBHOOK_EVENTS = ['job.succeeded', 'job.failed', 'job.cancelled', 'backup.completed', 'backup.failed'] as const
export type WebhookEvent = (typeof WEBHOOK_EVENTS)[number]
/** Subscribes an endpoint to every event type, including the ones later versions add. */
export const ALL_EVENTS = '*'
export type WebhookEventFilter = WebhookEvent | typeof ALL_EVENTS

/** Header names of a delivery (docs/webhooks.md). */
export const HEADERS = {
  delivery: 'pressluft-delivery',
  event: 'pressluft-event',
  timestamp: 'pressluft-timestamp',
  signature: 'pressluft-signature',
} as const

/** The events a committed job status change raises: every finished job, and for backup_create also the backup's. */
export function eventsOf(change: JobStatusChange): WebhookEvent[] {
  const events: WebhookEvent[] = []
  if (change.status === 'succeeded') events.push('job.succeeded')
  else if (change.status === 'failed') events.push('job.failed')
  else if (change.status === 'cancelled') events.push('job.cancelled')
  else return events
  // A cancelled backup_create leaves its backup failed too, so both end in backup.failed.
  if (change.jobType === 'backup_create') events.push(change.status === 'succeeded' ? 'backup.completed' : 'backup.failed')
  return events
}

export function subscribes(filters: readonly string[], event: WebhookEvent): boolean {
  return filters.includes(ALL_EVENTS) || filters.includes(event)
}

/** Stripe's scheme: hex HMAC-SHA256 with the signing secret (its UTF-8 bytes) over "<timestamp>.<body>". */
export function signature(secret: string, timestamp: number, body: string): string {
  return crypto.createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')
}

/** A new signing secret: 32 random bytes, base64url, with a prefix that makes it recognisable in a secret scanner. */
export function generateSecret(): string {
  return `whsec_${crypto.randomBytes(32).toString('base64url')}`
}
