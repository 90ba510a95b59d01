// Zod schemas of the webhook endpoints (docs/webhooks.md), named for the generated contract.
import { z } from '@hono/zod-openapi'
import { Uuid, Timestamp, page } from './schemas.js'
import { hasControlCharacters, hasTemplateSyntax, isSafeHttpUrl } from './validation.js'
import { ALL_EVENTS, WEBHOOK_EVENTS } from '../webhooks/webhook-events.js'

const EventFilter = z.enum([...WEBHOOK_EVENTS, ALL_EVENTS]).openapi({
  description: `One of ${WEBHOOK_EVENTS.join(', ')}; "*" subscribes to every event type, including ones later versions add`,
})

export const Webhook = z.object({
  id: Uuid,
  url: z.string(),
  events: z.array(EventFilter),
  description: z.string().nullable(),
  created_at: Timestamp,
  updated_at: Timestamp,
}).openapi('Webhook')

export const CreatedWebhook = Webhook.extend({
  secret: z.string().openapi({ description: 'The signing secret. Returned only in this answer; store it in the receiver now' }),
}).openapi('CreatedWebhook')

export const CreateWebhookRequest = z.object({
  url: z.string().max(2048).refine(isSafeHttpUrl, 'must be an http or https URL without credentials or whitespace')
    .openapi({ description: 'Receiver URL (http or https, no user:password@). Refused: link-local and cloud metadata addresses, multicast and reserved ranges, and loopback unless PRESSLUFT_WEBHOOK_ALLOW_LOOPBACK=true; host names are checked again on the address each delivery connects to' }),
  events: z.array(EventFilter).min(1).max(WEBHOOK_EVENTS.length + 1),
  description: z.string().max(200).refine((s) => !hasControlCharacters(s), 'must not contain control characters')
    .refine((s) => !hasTemplateSyntax(s), 'must not contain {{, {% or {#').nullable().optional(),
  secret: z.string().min(24).max(256).regex(/^[\x21-\x7e]+$/, 'must be printable ASCII without spaces').optional()
    .openapi({ description: 'Signing secret to use instead of a generated one (write-only; at least 24 characters)' }),
}).strict().openapi('CreateWebhookRequest')

export const WebhookPage = page(Webhook, 'WebhookPage')

export const WebhookDeliveryAttempt = z.object({
  attempt: z.number().int(),
  started_at: Timestamp,
  duration_ms: z.number().int(),
  response_code: z.number().int().nullable().openapi({ description: 'HTTP status of the answer; null when there was none (see error)' }),
  error: z.string().nullable().openapi({ description: 'Why the try did not succeed (timeout, refused address, connection error, non-2xx answer)' }),
}).openapi('WebhookDeliveryAttempt')

export const WebhookDelivery = z.object({
  id: Uuid.openapi({ description: 'The delivery id: the Pressluft-Delivery header and the body\'s id' }),
  webhook_id: Uuid,
  event: z.enum(WEBHOOK_EVENTS),
  job_id: Uuid.nullable(),
  status: z.enum(['pending', 'succeeded', 'failed']),
  attempt_count: z.number().int(),
  max_attempts: z.number().int(),
  next_attempt_at: Timestamp.nullable(),
  last_response_code: z.number().int().nullable(),
  last_error: z.string().nullable(),
  created_at: Timestamp,
  completed_at: Timestamp.nullable(),
  attempts: z.array(WebhookDeliveryAttempt),
}).openapi('WebhookDelivery')

export const WebhookDeliveryPage = page(WebhookDelivery, 'WebhookDeliveryPage')
