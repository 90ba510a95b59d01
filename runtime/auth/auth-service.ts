// Admin bootstrap, login, logout and session validation (docs/architecture.md "Security rules the code enforces").
import crypto from 'node:crypto'
import type { Db } from '../store/db.js'
import { inTransaction } from '../store/db.js'
import * as users from '../store/users.js'
import { insertAudit } from '../store/audit.js'
import { hashPassword, verifyPassword, type ScryptParams, DEFAULT_PARAMS } from './passwords.js'
import { LoginThrottle } from './login-throttle.js'
import { ApiError } from '../contracts/errors.js'
import { nowIso, isoPlus } from '../clock.js'
import type { Logger } from '../logging.js'
import { ApiTokenService } from './api-tokens.js'
import type { Actor } from './actor.js'

export const SESSION_TTL_MS = 24 * 60 * 60 * 1000
const PURGE_AFTER_MS = 7 * 24 * 60 * 60 * 1000

export type { Actor } from './actor.js'

export function hashToken(token: string): string {
  return crypto.createHash('sha256').update(token).digest('hex')
}

export class AuthService {
  readonly throttle = new LoginThrottle()
  private dummyHash: Promise<string> | undefined
  /** Bearer tokens for scripts (runtime/auth/api-tokens.ts). */
  readonly tokens: ApiTokenService

  constructor(private readonly db: Db, private readonly logger: Logger, private readonly scryptParams: ScryptParams = DEFAULT_PARAMS) {
    this.tokens = new ApiTokenService(db, logger)
  }

  /** Creates the single admin if there is no user yet; returns the generated password when one was generated. */
  async bootstrapAdmin(email: string, password: string | undefined): Promise<{ created: boolean; generatedPassword?: string }> {
    if ((await users.countUsers(this.db)) > 0) return { created: false }
    const generated = password === undefined ? crypto.randomBytes(24).toString('base64url') : undefined
    const now = nowIso()
    await users.insertUser(this.db, {
      id: crypto.randomUUID(), email: email.toLowerCase(), display_name: 'Administrator', role: 'admin',
      password_hash: await hashPassword(password ?? generated!, this.scryptParams), is_active: 1, created_at: now, updated_at: now,
    })
    return { created: true, generatedPassword: generated }
  }

  async purgeOldSessions(): Promise<number> {
    return users.deleteSessionsExpiredBefore(this.db, new Date(Date.now() - PURGE_AFTER_MS).toISOString())
  }

  /** Verifies the credentials and returns a new opaque session token; only its hash is stored. */
  async login(email: string, password: string, clientIp: string): Promise<{ token: string; expiresAt: string }> {
    if (this.throttle.isBlocked(clientIp)) throw new ApiError('rate_limited', 'Too many failed logins; try again later')
    const user = await users.findUserByEmail(this.db, email)
    // Unknown emails are checked against a dummy hash so response time does not reveal which emails exist.
    const ok = user
      ? await verifyPassword(password, user.password_hash)
      : await verifyPassword(password, await (this.dummyHash ??= hashPassword(crypto.randomBytes(16).toString('hex'), this.scryptParams))) && false
    if (!user || !ok || user.is_active !== 1) {
      this.throttle.recordFailure(clientIp)
      if (user) await insertAudit(this.db, { user_id: user.id, action: 'login', resource_type: 'user', resource_id: user.id, result: 'failed' })
      else this.logger.info({ client_ip: clientIp }, 'login failed for unknown email')
      throw new ApiError('unauthorized', 'Invalid email or password')
    }
    const token = crypto.randomBytes(32).toString('base64url')
    const now = nowIso()
    const expiresAt = isoPlus(now, SESSION_TTL_MS)
    await inTransaction(this.db, async (tx) => {
      await users.insertSession(tx, { id: crypto.randomUUID(), user_id: user.id, token_hash: hashToken(token), expires_at: expiresAt, created_at: now })
      await insertAudit(tx, { user_id: user.id, action: 'login', resource_type: 'user', resource_id: user.id, result: 'succeeded' })
    })
    return { token, expiresAt }
  }

  async logout(actor: Actor): Promise<void> {
    // The route is session-only (an API token gets 403 before this), so a session is always there.
    if (!actor.session_id) throw new ApiError('forbidden', 'Only a session signs out; revoke an API token with DELETE /api/tokens/{id}')
    const sessionId = actor.session_id
    await inTransaction(this.db, async (tx) => {
      await users.revokeSession(tx, sessionId, nowIso())
      await insertAudit(tx, { user_id: actor.id, action: 'logout', resource_type: 'user', resource_id: actor.id, result: 'succeeded' })
    })
  }

  async authenticate(token: string | undefined): Promise<Actor | null> {
    if (!token || token.length > 200) return null
    const row = await users.findSessionUser(this.db, hashToken(token), nowIso())
    return row ? { id: row.id, email: row.email, session_id: row.session_id } : null
  }
}
