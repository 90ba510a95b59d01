// The API error registry: one ApiError type, the code → HTTP status table, and OpenAPI error responses.
import { z } from '@hono/zod-openapi'

export const API_ERRORS = {
  bad_request: 400,
  settings_invalid: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  state_version_conflict: 409,
  environment_not_active: 409,
  site_not_active: 409,
  node_not_active: 409,
  no_active_node: 409,
  slug_taken: 409,
  production_environment_exists: 409,
  backup_storage_not_configured: 409,
  backup_not_restorable: 409,
  invalid_promotion_target: 409,
  drift_gate_unmet: 409,
  backup_gate_unmet: 409,
  drift_check_not_applicable: 409,
  domain_exists: 409,
  node_exists: 409,
  provider_not_configured: 409,
  job_not_cancellable: 409,
  resource_not_failed: 409,
  reset_validation_failed: 409,
  release_not_rollback_target: 409,
  payload_too_large: 413,
  unsupported_media_type: 415,
  rate_limited: 429,
  internal_error: 500,
  node_unreachable: 502,
  wp_cli_error: 502,
} as const

export type ApiErrorCode = keyof typeof API_ERRORS

export class ApiError extends Error {
  readonly status: number
  constructor(readonly code: ApiErrorCode, message: string, readonly details?: Record<string, unknown>) {
    super(message)
    this.status = API_ERRORS[code]
  }
}

export const ErrorResponse = z.object({
  code: z.string().openapi({ example: 'environment_not_active' }),
  message: z.string().openapi({ example: 'Environment must be active for this operation' }),
  details: z.record(z.string(), z.unknown()).optional(),
}).strict().openapi('ErrorResponse')

const DESCRIPTIONS: Record<number, string> = {
  400: 'Invalid request (validation failure, malformed id, bad cursor)',
  401: 'Missing, expired or revoked session or API token',
  403: 'Not allowed with an API token: sign in with a session',
  404: 'Unknown resource',
  409: 'State conflict',
  413: 'Body over 64 KiB',
  415: 'Body is not application/json',
  429: 'Too many failed logins',
  500: 'Unexpected failure',
  502: 'Node could not be queried',
}

/** OpenAPI response entries for the given error statuses, all with the shared error shape. */
export function errorResponses(...statuses: number[]) {
  const out: Record<number, { description: string; content: { 'application/json': { schema: typeof ErrorResponse } } }> = {}
  for (const status of statuses) out[status] = { description: DESCRIPTIONS[status] ?? 'Error', content: { 'application/json': { schema: ErrorResponse } } }
  return out
}
