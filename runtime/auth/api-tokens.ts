// API tokens for scripts and CI: created (shown once), listed (metadata only), revoked, and checked for
// `Authorization: Bearer plt_…` (docs/decisions.md "API tokens"). Only the SHA-256 of a token is stored.
import crypto from 'node:crypto'
import type { Db } from '../store/db.js'
import { inTransaction } from '../store/db.js'
import {
  insertApiToken, listApiTokensOfUser, findApiTokenOfUser, revokeApiToken, findUsableApiToken, touchApiToken, type ApiTokenRow,
} from '../store/api-tokens.js'
import { insertAudit } from '../store/audit.js'
import { pageRequest, mapPage, type Page } from '../store/pagination.js'
import { ApiError } from '../contracts/errors.js'
import { nowIso, isoPlus } from '../clock.js'
import type { Logger } from '../logging.js'
import type { Actor } from './actor.js'

/** Recognisable prefix so secret scanners can find a leaked token; 64 hex digits = 256 random bits. */
export const API_TOKEN_PREFIX = 'plt_'
export const API_TOKEN_RE = /^plt_[0-9a-f]{64}$/
/** last_used_at is written at most once per token per minute, however busy the script is. */
export const LAST_USED_RESOLUTION_MS = 60_000

/**
 * The credential of an `Authorization: Bearer <token>` header (scheme case-insensitive, RFC 9110), '' for a Bearer
 * header without one; undefined when there is no header or another scheme (e.g. Basic from a reverse proxy), so the
 * session cookie is used instead.
 */
export function bearerCredential(header: string | undefined): string | undefined {
  if (!header) return undefined
  const match = /^bearer(?:\s+(.*))?$/i.exec(header.trim())
  return match ? (match[1] ?? '').trim() : undefined
}

export function hashApiToken(token: string): string {
  return crypto.createHash('sha256').update(token).digest('hex')
}

export function apiTokenView(row: ApiTokenRow) {
  return {
    id: row.id, name: row.name, created_at: row.created_at, expires_at: row.expires_at, last_used_at: row.last_used_at,
    revoked_at: row.revoked_at,
  }
}
export type ApiTokenView = ReturnType<typeof apiTokenView>

export class ApiTokenService {
  constructor(private readonly db: Db, private readonly logger: Logger) {}

  /** Creates a token for the actor; the returned `token` is the only time it exists outside the caller. */
  async create(input: { name: string; expires_at?: string | null }, actor: Actor): Promise<ApiTokenView & { token: string }> {
    const now = nowIso()
    const expiresAt = input.expires_at ? new Date(input.expires_at).toISOString() : null
    if (expiresAt !== null && expiresAt <= now) {
      throw new ApiError('bad_request', 'Request validation failed', { issues: [{ path: 'expires_at', message: 'must be in the future' }] })
    }
    const token = `${API_TOKEN_PREFIX}${crypto.randomBytes(32).toString('hex')}`
    const row = { id: crypto.randomUUID(), user_id: actor.id, name: input.name, token_hash: hashApiToken(token), created_at: now, expires_at: expiresAt }
    await inTransaction(this.db, async (tx) => {
      await insertApiToken(tx, row)
      await insertAudit(tx, {
        user_id: actor.id, action: 'api_token_create', resource_type: 'user', resource_id: actor.id, result: 'succeeded',
        details: { api_token_id: row.id, name: row.name, expires_at: expiresAt },
      })
    })
    return { ...apiTokenView({ ...row, last_used_at: null, revoked_at: null }), token }
  }

  async list(actor: Actor, query: { limit?: number; cursor?: string }): Promise<Page<ApiTokenView>> {
    return mapPage(await listApiTokensOfUser(this.db, actor.id, pageRequest(query)), apiTokenView)
  }

  /** Revokes the token at once; revoking a revoked token answers its row again and writes no second audit row. */
  async revoke(id: string, actor: Actor): Promise<ApiTokenView> {
    return inTransaction(this.db, async (tx) => {
      const row = await findApiTokenOfUser(tx, id, actor.id)
      if (!row) throw new ApiError('not_found', 'API token not found')
      if (row.revoked_at) return apiTokenView(row)
      const now = nowIso()
      await revokeApiToken(tx, id, now)
      await insertAudit(tx, {
        user_id: actor.id, action: 'api_token_revoke', resource_type: 'user', resource_id: actor.id, result: 'succeeded',
        details: { api_token_id: row.id, name: row.name },
      })
      return apiTokenView({ ...row, revoked_at: now })
    })
  }

  /** The actor of a bearer token, or null when it is malformed, unknown, expired, revoked or its user inactive. */
  async authenticate(token: string): Promise<Actor | null> {
    if (!API_TOKEN_RE.test(token)) return null
    const now = nowIso()
    const row = await findUsableApiToken(this.db, hashApiToken(token), now)
    if (!row) return null
    if (row.last_used_at === null || row.last_used_at < isoPlus(now, -LAST_USED_RESOLUTION_MS)) {
      // The conditional UPDATE makes concurrent requests of one token write once per interval; a failure to record
      // the use must not fail the request.
      try {
        await touchApiToken(this.db, row.id, now, isoPlus(now, -LAST_USED_RESOLUTION_MS))
      } catch (error) {
        this.logger.warn({ err: error, api_token_id: row.id }, 'could not record the API token use')
      }
    }
    return { id: row.user_id, email: row.email, session_id: null, token_id: row.id }
  }
}
