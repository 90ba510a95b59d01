// SQL for users and auth_sessions.
import type { Executor } from './db.js'
import { queryOne, run } from './db.js'

export interface UserRow {
  id: string; email: string; display_name: string; role: 'admin'; password_hash: string; is_active: number
  created_at: string; updated_at: string
}

export async function countUsers(ex: Executor): Promise<number> {
  const row = await queryOne<{ n: number }>(ex, 'SELECT COUNT(*) AS n FROM users')
  return row?.n ?? 0
}

export async function insertUser(ex: Executor, user: UserRow): Promise<void> {
  await run(ex, `INSERT INTO users (id, email, display_name, role, password_hash, is_active, created_at, updated_at)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
  [user.id, user.email, user.display_name, user.role, user.password_hash, user.is_active, user.created_at, user.updated_at])
}

export async function findUserByEmail(ex: Executor, email: string): Promise<UserRow | undefined> {
  return queryOne<UserRow>(ex, 'SELECT * FROM users WHERE email = ?', [email.toLowerCase()])
}

export async function findUserById(ex: Executor, id: string): Promise<UserRow | undefined> {
  return queryOne<UserRow>(ex, 'SELECT * FROM users WHERE id = ?', [id])
}

export async function insertSession(ex: Executor, s: { id: string; user_id: string; token_hash: string; expires_at: string; created_at: string }): Promise<void> {
  await run(ex, 'INSERT INTO auth_sessions (id, user_id, session_token, expires_at, created_at) VALUES (?, ?, ?, ?, ?)',
    [s.id, s.user_id, s.token_hash, s.expires_at, s.created_at])
}

/** The session's user if the session is valid: not revoked, not expired, user active. */
export async function findSessionUser(ex: Executor, tokenHash: string, now: string): Promise<{ id: string; email: string; session_id: string } | undefined> {
  // Only what the actor needs: every authenticated request runs this, and the password hash has no business here.
  return queryOne(ex, `SELECT u.id, u.email, s.id AS session_id FROM auth_sessions s JOIN users u ON u.id = s.user_id
    WHERE s.session_token = ? AND s.revoked_at IS NULL AND s.expires_at > ? AND u.is_active = 1`, [tokenHash, now])
}

export async function revokeSession(ex: Executor, sessionId: string, now: string): Promise<number> {
  return run(ex, 'UPDATE auth_sessions SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL', [now, sessionId])
}

export async function deleteSessionsExpiredBefore(ex: Executor, cutoff: string): Promise<number> {
  return run(ex, 'DELETE FROM auth_sessions WHERE expires_at < ?', [cutoff])
}
