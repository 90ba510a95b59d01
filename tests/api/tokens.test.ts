// API tokens for scripts: created once-shown with a session, used as `Authorization: Bearer` on the routes a session
// opens, listed without secrets, revoked and expired into 401, audited, never logged.
import crypto from 'node:crypto'
import { describe, it, expect, beforeEach, afterEach } from 'vitest'
import { createTestControlPlane, type TestControlPlane } from '../support/control-plane.js'
import { rememberSecret } from '../support/log-audit.js'
import { insertActiveNode, createActiveSite, auditsFor, count, row, expectError } from '../support/seed.js'

const TOKEN_FIELDS = ['created_at', 'expires_at', 'id', 'last_used_at', 'name', 'revoked_at']

let cp: TestControlPlane
beforeEach(async () => { cp = await createTestControlPlane(); await cp.login() })
afterEach(async () => { await cp.close() })

/** Creates a token with the admin session; registers it as a secret the log check must never find. */
async function createToken(body: Record<string, unknown> = { name: 'ci-deploy' }): Promise<{ id: string; token: string; [k: string]: unknown }> {
  const res = await cp.request('POST', '/api/tokens', body)
  expect(res.status, await res.clone().text()).toBe(201)
  const created = await res.json()
  rememberSecret(created.token)
  return created
}

/** A request with the bearer token only: no session cookie. */
async function withToken(token: string, method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Response> {
  const init: RequestInit = { method, headers: { authorization: `Bearer ${token}`, ...headers } }
  if (body !== undefined) {
    init.body = typeof body === 'string' ? body : JSON.stringify(body)
    ;(init.headers as Record<string, string>)['content-type'] ??= 'application/json'
  }
  return cp.app.request(path, init)
}

const sha256 = (s: string) => crypto.createHash('sha256').update(s).digest('hex')

describe('POST /api/tokens', () => {
  it('returns a recognisable 256-bit token once and stores only its SHA-256', async () => {
    const created = await createToken({ name: 'ci-deploy' })
    expect(created.token).toMatch(/^plt_[0-9a-f]{64}$/)
    expect(created).toMatchObject({ name: 'ci-deploy', expires_at: null, last_used_at: null, revoked_at: null })
    const stored = await row<Record<string, unknown>>(cp, 'SELECT * FROM api_tokens WHERE id = ?', [created.id])
    expect(stored.token_hash).toBe(sha256(created.token))
    expect(JSON.stringify(stored)).not.toContain(created.token.slice(4))
    const second = await createToken({ name: 'ci-deploy' })
    expect(second.token).not.toBe(created.token)
  })

  it('writes an audit row naming the token, without the token', async () => {
    const created = await createToken({ name: 'nightly', expires_at: '2099-01-01T00:00:00+02:00' })
    expect(created.expires_at).toBe('2098-12-31T22:00:00.000Z')
    const [audit] = await auditsFor(cp, 'api_token_create')
    expect(audit).toMatchObject({ resource_type: 'user', result: 'succeeded', details: { api_token_id: created.id, name: 'nightly', expires_at: '2098-12-31T22:00:00.000Z' } })
    expect(audit.details_json).not.toContain(created.token)
  })

  it('refuses a past expiry, an empty name and unknown fields with 400 and creates nothing', async () => {
    const past = await expectError(await cp.request('POST', '/api/tokens', { name: 'x', expires_at: new Date(Date.now() - 1000).toISOString() }), 400, 'bad_request')
    expect(past.details?.issues).toEqual([{ path: 'expires_at', message: 'must be in the future' }])
    await expectError(await cp.request('POST', '/api/tokens', { name: 'x', expires_at: 'tomorrow' }), 400, 'bad_request')
    await expectError(await cp.request('POST', '/api/tokens', { name: '' }), 400, 'bad_request')
    await expectError(await cp.request('POST', '/api/tokens', { name: 'x', scopes: ['all'] }), 400, 'bad_request')
    expect(await count(cp, 'api_tokens')).toBe(0)
  })
})

describe('Authorization: Bearer', () => {
  it('opens the same routes as a session: reads, a job-starting write and the /_admin settings, audited with the token id', async () => {
    const { token, id } = await createToken()
    const nodeId = await insertActiveNode(cp)
    const site = await createActiveSite(cp, 'shop', nodeId)

    expect((await withToken(token, 'GET', '/api/sites')).status).toBe(200)
    const env = await withToken(token, 'GET', `/api/environments/${site.productionId}`)
    expect(env.status).toBe(200)
    expect((await env.json()).id).toBe(site.productionId)
    expect((await withToken(token, 'GET', '/api/jobs')).status).toBe(200)
    expect((await withToken(token, 'GET', '/_admin/settings')).status).toBe(200)

    const purge = await withToken(token, 'POST', `/api/environments/${site.productionId}/cache/purge`)
    expect(purge.status).toBe(202)
    const { job_id: jobId } = await purge.json()
    const [accepted] = await auditsFor(cp, 'cache_purge')
    expect(accepted).toMatchObject({ result: 'accepted', job_id: jobId, details: { token_id: id } })
    // The job is requested by the admin the token belongs to.
    const job = await row<{ requested_by: string }>(cp, 'SELECT requested_by FROM jobs WHERE id = ?', [jobId])
    expect(job.requested_by).toBe((await row<{ id: string }>(cp, 'SELECT id FROM users')).id)

    const settings = await withToken(token, 'PATCH', '/_admin/settings', { backup_retention_days: 9 })
    expect(settings.status).toBe(200)
    expect((await settings.json()).backup_retention_days).toBe(9)
    const [settingsAudit] = await auditsFor(cp, 'settings_update')
    expect(settingsAudit.details).toEqual({ keys: ['backup_retention_days'], token_id: id })
    // The site was created with the session: its acceptance row names no token.
    const [siteCreate] = await auditsFor(cp, 'site_create')
    expect(siteCreate.details?.token_id).toBeUndefined()
  })

  it('audits a job-starting request made with a token: the accepted row carries token_id', async () => {
    const { token, id } = await createToken()
    const res = await withToken(token, 'POST', '/api/nodes', { name: 'web-1', hostname: 'web-1.example.com', public_ip: '203.0.113.10' })
    expect(res.status).toBe(202)
    const { job_id: jobId } = await res.json()
    const [audit] = await auditsFor(cp, 'node_provision')
    expect(audit).toMatchObject({ result: 'accepted', job_id: jobId, details: { token_id: id } })
  })

  it('records last_used_at at most once a minute', async () => {
    const { token, id } = await createToken()
    expect((await withToken(token, 'GET', '/api/sites')).status).toBe(200)
    const first = (await row<{ last_used_at: string | null }>(cp, 'SELECT last_used_at FROM api_tokens WHERE id = ?', [id])).last_used_at
    expect(first).not.toBeNull()
    for (let i = 0; i < 5; i++) expect((await withToken(token, 'GET', '/api/sites')).status).toBe(200)
    expect((await row<{ last_used_at: string }>(cp, 'SELECT last_used_at FROM api_tokens WHERE id = ?', [id])).last_used_at).toBe(first)

    // A use recorded 61 s ago is stale: the next request records the new one.
    const old = new Date(Date.now() - 61_000).toISOString()
    await cp.services.db.execute({ sql: 'UPDATE api_tokens SET last_used_at = ? WHERE id = ?', args: [old, id] })
    expect((await withToken(token, 'GET', '/api/sites')).status).toBe(200)
    const listed = (await (await cp.request('GET', '/api/tokens')).json()).items[0]
    expect(listed.last_used_at > old).toBe(true)
  })

  it('keeps sessions working and ignores a non-Bearer Authorization header', async () => {
    await createToken()
    expect((await cp.request('GET', '/api/sites')).status).toBe(200)
    expect((await cp.request('GET', '/api/sites', undefined, { authorization: 'Basic YWRtaW46cHc=' })).status).toBe(200)
    // Basic without a session is still anonymous.
    const anonymous = await cp.app.request('/api/sites', { headers: { authorization: 'Basic YWRtaW46cHc=' } })
    await expectError(anonymous, 401, 'unauthorized')
  })

  it('answers 401 to an unknown, malformed or empty bearer token', async () => {
    await createToken()
    for (const bad of [`plt_${'0'.repeat(64)}`, 'plt_short', 'abc', '']) {
      await expectError(await withToken(bad, 'GET', '/api/sites'), 401, 'unauthorized')
    }
  })

  it('answers 401 to a token of a deactivated admin', async () => {
    const { token } = await createToken()
    await cp.services.db.execute('UPDATE users SET is_active = 0')
    await expectError(await withToken(token, 'GET', '/api/sites'), 401, 'unauthorized')
  })
})

describe('what a token may not do', () => {
  it('cannot create or revoke tokens or sign out (403 before any body check), and nothing changes', async () => {
    const { token, id } = await createToken()
    await expectError(await withToken(token, 'POST', '/api/tokens', { name: 'minted' }), 403, 'forbidden')
    await expectError(await withToken(token, 'POST', '/api/tokens', 'name=minted', { 'content-type': 'text/plain' }), 403, 'forbidden')
    await expectError(await withToken(token, 'DELETE', `/api/tokens/${id}`), 403, 'forbidden')
    await expectError(await withToken(token, 'POST', '/api/logout'), 403, 'forbidden')
    expect(await count(cp, 'api_tokens')).toBe(1)
    expect(await count(cp, 'api_tokens', 'revoked_at IS NOT NULL')).toBe(0)
    expect(await count(cp, 'auth_sessions', 'revoked_at IS NOT NULL')).toBe(0)
    expect((await withToken(token, 'GET', '/api/sites')).status).toBe(200)
  })

  it('says so in the contract: token management and logout require the session scheme only', async () => {
    const doc = await (await cp.request('GET', '/api/openapi.json')).json()
    expect(doc.components.securitySchemes.bearer).toMatchObject({ type: 'http', scheme: 'bearer' })
    expect(doc.paths['/api/tokens'].post.security).toEqual([{ session: [] }])
    expect(doc.paths['/api/tokens/{id}'].delete.security).toEqual([{ session: [] }])
    expect(doc.paths['/api/logout'].post.security).toEqual([{ session: [] }])
    expect(doc.paths['/api/tokens'].get.security).toBeUndefined()
  })
})

describe('GET /api/tokens', () => {
  it('lists metadata only, newest first, with a session or a token, never the token or its hash', async () => {
    const a = await createToken({ name: 'first' })
    const b = await createToken({ name: 'second', expires_at: '2099-06-01T00:00:00Z' })
    const res = await cp.request('GET', '/api/tokens')
    expect(res.status).toBe(200)
    const text = await res.text()
    const body = JSON.parse(text)
    expect(body.next_cursor).toBeNull()
    expect(body.items.map((t: { name: string }) => t.name)).toEqual(['second', 'first'])
    for (const item of body.items) expect(Object.keys(item).sort()).toEqual(TOKEN_FIELDS)
    expect(body.items[0].expires_at).toBe('2099-06-01T00:00:00.000Z')
    for (const secret of [a.token, b.token, sha256(a.token), sha256(b.token), a.token.slice(4)]) expect(text).not.toContain(secret)

    const viaToken = await withToken(a.token, 'GET', '/api/tokens?limit=1')
    expect(viaToken.status).toBe(200)
    const page = await viaToken.json()
    expect(page.items).toHaveLength(1)
    expect(page.next_cursor).toEqual(expect.any(String))
  })
})

describe('DELETE /api/tokens/{id}', () => {
  it('revokes at once: the next request with the token is 401, the listing shows revoked_at, one audit row', async () => {
    const { token, id } = await createToken()
    expect((await withToken(token, 'GET', '/api/sites')).status).toBe(200)
    const res = await cp.request('DELETE', `/api/tokens/${id}`)
    expect(res.status).toBe(200)
    const revoked = await res.json()
    expect(revoked).toMatchObject({ id, revoked_at: expect.any(String) })
    expect(Object.keys(revoked).sort()).toEqual(TOKEN_FIELDS)

    const after = await expectError(await withToken(token, 'GET', '/api/sites'), 401, 'unauthorized')
    expect(after.message).toMatch(/token/i)
    await expectError(await withToken(token, 'POST', '/api/nodes', 'x', { 'content-type': 'text/plain' }), 401, 'unauthorized')

    const again = await cp.request('DELETE', `/api/tokens/${id}`)
    expect(again.status).toBe(200)
    expect((await again.json()).revoked_at).toBe(revoked.revoked_at)
    const audits = await auditsFor(cp, 'api_token_revoke')
    expect(audits).toHaveLength(1)
    expect(audits[0].details).toMatchObject({ api_token_id: id })
    expect((await (await cp.request('GET', '/api/tokens')).json()).items[0].revoked_at).toBe(revoked.revoked_at)
  })

  it('answers 404 for an unknown id and 400 for a malformed one', async () => {
    await expectError(await cp.request('DELETE', `/api/tokens/${crypto.randomUUID()}`), 404, 'not_found')
    await expectError(await cp.request('DELETE', '/api/tokens/not-a-uuid'), 400, 'bad_request')
  })
})

describe('expiry', () => {
  it('a token works until its expires_at and answers 401 after it', async () => {
    const expiresAt = new Date(Date.now() + 1500).toISOString()
    const { token } = await createToken({ name: 'short', expires_at: expiresAt })
    expect((await withToken(token, 'GET', '/api/sites')).status).toBe(200)
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, Date.parse(expiresAt) - Date.now()) + 50))
    await expectError(await withToken(token, 'GET', '/api/sites'), 401, 'unauthorized')
    // Expired tokens stay listed.
    expect((await (await cp.request('GET', '/api/tokens')).json()).items[0]).toMatchObject({ name: 'short', expires_at: expiresAt, revoked_at: null })
  })
})

describe('logs', () => {
  it('no log line of the control plane carries a token, even after it was used, refused and revoked', async () => {
    const { token, id } = await createToken()
    await withToken(token, 'GET', '/api/sites')
    await withToken(token, 'POST', '/api/tokens', { name: 'x' })
    await cp.request('DELETE', `/api/tokens/${id}`)
    await withToken(token, 'GET', '/api/sites')
    expect(cp.logLines.length).toBeGreaterThan(0)
    for (const line of cp.logLines) {
      expect(line).not.toContain(token.slice(4))
      expect(line).not.toContain(sha256(token))
    }
  })
})
