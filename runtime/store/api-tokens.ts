// SQL for api_tokens: the admin's bearer tokens for scripts, stored as the SHA-256 of the token (never the token).
import type { Executor } from './db.js'
import { queryOne, run } from './db.js'
import { selectPage, type Page, type PageRequest } from './pagination.js'

export interface ApiTokenRow {
  id: string; user_id: string; name: string; token_hash: string; created_at: string; expires_at: string | null
  last_used_at: string | null; revoked_at: string | null
}

export async function insertApiToken(ex: Executor, row: Omit<ApiTokenRow, 'last_used_at' | 'revoked_at'>): Promise<void> {
  await run(ex, 'INSERT INTO api_tokens (id, user_id, name, token_hash, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?)',
    [row.id, row.user_id, row.name, row.token_hash, row.created_at, row.expires_at])
}

export async function listApiTokensOfUser(ex: Executor, userId: string, page: PageRequest): Promise<Page<ApiTokenRow>> {
  return selectPage<ApiTokenRow>(ex, { from: 'api_tokens', where: ['user_id = ?'], args: [userId] }, page)
}

export async function findApiTokenOfUser(ex: Executor, id: string, userId: string): Promise<ApiTokenRow | undefined> {
  return queryOne<ApiTokenRow>(ex, 'SELECT * FROM api_tokens WHERE id = ? AND user_id = ?', [id, userId])
}

export async function revokeApiToken(ex: Executor, id: string, now: string): Promise<number> {
  return run(ex, 'UPDATE api_tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL', [now, id])
}

/** The token and its user when the token is usable: known hash, not revoked, not expired, user active (one indexed lookup). */
export async function findUsableApiToken(ex: Executor, tokenHash: string, now: string): Promise<(ApiTokenRow & { email: string }) | undefined> {
  return queryOne(ex, `SELECT t.*, u.email AS email FROM api_tokens t JOIN users u ON u.id = t.user_id
    WHERE t.token_hash = ? AND t.revoked_at IS NULL AND (t.expires_at IS NULL OR t.expires_at > ?) AND u.is_active = 1`, [tokenHash, now])
}

/** Records a use at most once per interval: only when last_used_at is unset or older than `staleBefore`. */
export async function touchApiToken(ex: Executor, id: string, now: string, staleBefore: string): Promise<number> {
  return run(ex, 'UPDATE api_tokens SET last_used_at = ? WHERE id = ? AND (last_used_at IS NULL OR last_used_at < ?)', [now, id, staleBefore])
}
