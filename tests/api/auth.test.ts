import { describe, it, expect, beforeEach, afterEach } from 'vitest'
import { createTestControlPlane, ADMIN_EMAIL, ADMIN_PASSWORD, type TestControlPlane } from '../support/control-plane.js'
import { queryAll, queryOne } from '../../runtime/store/db.js'
import { hashToken } from '../../runtime/auth/auth-service.js'

describe('login and sessions', () => {
  let cp: TestControlPlane
  beforeEach(async () => { cp = await createTestControlPlane() })
  afterEach(async () => { await cp.close() })

  it('sets an HttpOnly SameSite=Strict cookie valid for 24 h and stores only the token hash', async () => {
    const res = await cp.request('POST', '/api/login', { email: ADMIN_EMAIL, password: ADMIN_PASSWORD })
    expect(res.status).toBe(200)
    expect(await res.json()).toEqual({ success: true })
    const cookie = res.headers.get('set-cookie')!
    expect(cookie).toMatch(/^session_token=[A-Za-z0-9_-]{43};/)
    expect(cookie).toContain('HttpOnly')
    expect(cookie).toContain('SameSite=Strict')
    expect(cookie).toContain('Max-Age=86400')
    expect(cookie).not.toContain('Secure')
    const token = cookie.split(';')[0].split('=')[1]
    const sessions = await queryAll<{ session_token: string; expires_at: string; created_at: string }>(cp.services.db, 'SELECT * FROM auth_sessions')
    expect(sessions).toHaveLength(1)
    expect(sessions[0].session_token).toBe(hashToken(token))
    expect(sessions[0].session_token).not.toContain(token)
    expect(Date.parse(sessions[0].expires_at) - Date.parse(sessions[0].created_at)).toBe(24 * 3600 * 1000)
  })

  it('adds Secure to the cookie when the request arrived over HTTPS', async () => {
    const res = await cp.request('POST', '/api/login', { email: ADMIN_EMAIL, password: ADMIN_PASSWORD }, { 'x-forwarded-proto': 'https' })
    expect(res.headers.get('set-cookie')).toContain('Secure')
  })

  it('answers the same 401 for an unknown email and a wrong password, and audits only the known user', async () => {
    const unknown = await cp.request('POST', '/api/login', { email: 'nobody@example.test', password: 'whatever-password' })
    const wrong = await cp.request('POST', '/api/login', { email: ADMIN_EMAIL, password: 'wrong-password!' })
    expect(unknown.status).toBe(401)
    expect(wrong.status).toBe(401)
    expect(await unknown.json()).toEqual(await wrong.json())
    const audits = await queryAll<{ action: string; result: string }>(cp.services.db, 'SELECT action, result FROM audit_logs')
    expect(audits).toEqual([{ action: 'login', result: 'failed' }])
  })

  it('rate-limits a client after 10 failed logins with 429 rate_limited', async () => {
    for (let i = 0; i < 10; i++) {
      const res = await cp.request('POST', '/api/login', { email: ADMIN_EMAIL, password: `wrong-${i}` }, { 'x-forwarded-for': '203.0.113.9' })
      expect(res.status).toBe(401)
    }
    const blocked = await cp.request('POST', '/api/login', { email: ADMIN_EMAIL, password: ADMIN_PASSWORD }, { 'x-forwarded-for': '203.0.113.9' })
    expect(blocked.status).toBe(429)
    expect((await blocked.json()).code).toBe('rate_limited')
    const otherClient = await cp.request('POST', '/api/login', { email: ADMIN_EMAIL, password: ADMIN_PASSWORD }, { 'x-forwarded-for': '203.0.113.10' })
    expect(otherClient.status).toBe(200)
  })

  it('rejects protected routes without a session, and after logout revokes the session', async () => {
    expect((await cp.request('POST', '/api/logout')).status).toBe(401)
    const cookie = await cp.login()
    const out = await cp.request('POST', '/api/logout')
    expect(out.status).toBe(200)
    expect(out.headers.get('set-cookie')).toMatch(/session_token=;.*Max-Age=0/)
    const again = await cp.request('POST', '/api/logout', undefined, { cookie })
    expect(again.status).toBe(401)
    const row = await queryOne<{ revoked_at: string | null }>(cp.services.db, 'SELECT revoked_at FROM auth_sessions')
    expect(row?.revoked_at).not.toBeNull()
  })

  it('rejects an expired session with 401', async () => {
    await cp.login()
    await cp.services.db.execute("UPDATE auth_sessions SET expires_at = '2000-01-01T00:00:00.000Z'")
    expect((await cp.request('POST', '/api/logout')).status).toBe(401)
  })

  it('answers invalid JSON with 400, a non-JSON body with 415 and a body over 64 KiB with 413', async () => {
    const bad = await cp.request('POST', '/api/login', '{"email":', {})
    expect(bad.status).toBe(400)
    expect((await bad.json()).code).toBe('bad_request')
    const text = await cp.request('POST', '/api/login', 'email=a', { 'content-type': 'text/plain' })
    expect(text.status).toBe(415)
    const big = await cp.request('POST', '/api/login', { email: ADMIN_EMAIL, password: 'x'.repeat(70 * 1024) })
    expect(big.status).toBe(413)
    expect((await big.json()).code).toBe('payload_too_large')
  })

  it('rejects unknown body fields with 400 and zod issues in details', async () => {
    const res = await cp.request('POST', '/api/login', { email: ADMIN_EMAIL, password: ADMIN_PASSWORD, extra: 1 })
    expect(res.status).toBe(400)
    const body = await res.json()
    expect(body.code).toBe('bad_request')
    expect(body.details.issues.length).toBeGreaterThan(0)
  })

  it('answers unknown routes with a JSON 404 after authentication', async () => {
    await cp.login()
    const res = await cp.request('GET', '/api/nope')
    expect(res.status).toBe(404)
    expect((await res.json()).code).toBe('not_found')
  })
})
