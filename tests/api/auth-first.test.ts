// Authentication comes first: every operation of the contract that needs a session answers 401 to a caller without
// one, or with an unknown API token, before it looks at the content type, the body size or the body.
import fs from 'node:fs'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createTestControlPlane, ADMIN_EMAIL, ADMIN_PASSWORD, type TestControlPlane } from '../support/control-plane.js'
import { rememberSecret } from '../support/log-audit.js'

interface Operation { method: string; path: string; operationId: string }

/** Operations of contracts/openapi.json and contracts/admin-openapi.json that keep the document's session requirement. */
function protectedOperations(): Operation[] {
  const ops: Operation[] = []
  for (const file of ['openapi.json', 'admin-openapi.json']) {
    const doc = JSON.parse(fs.readFileSync(path.resolve('contracts', file), 'utf8')) as {
      security?: unknown[]; paths: Record<string, Record<string, { operationId: string; security?: unknown[] }>>
    }
    expect(doc.security, `${file} requires a session or an API token by default`).toEqual([{ session: [] }, { bearer: [] }])
    for (const [p, methods] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(methods)) {
        if (op.security && op.security.length === 0) continue // public (login)
        ops.push({ method: method.toUpperCase(), path: p.replace(/\{[^}]+\}/g, '00000000-0000-4000-8000-000000000000'), operationId: op.operationId })
      }
    }
  }
  return ops
}

const OPERATIONS = protectedOperations()
const OVERSIZED = JSON.stringify({ padding: 'x'.repeat(70 * 1024) })
// Well-formed (plt_ + 64 hex digits) but never issued: it reaches the database lookup and is refused there.
const UNKNOWN_TOKEN = { authorization: `Bearer plt_${'ab'.repeat(32)}` }

let cp: TestControlPlane

let cookie: string | undefined
beforeAll(async () => { cp = await createTestControlPlane() })

/** A valid admin session sent explicitly (cp.request() sends no cookie until login() ran, and this file never runs it). */
async function sessionCookie(): Promise<string> {
  if (cookie) return cookie
  const res = await cp.request('POST', '/api/login', { email: ADMIN_EMAIL, password: ADMIN_PASSWORD })
  cookie = res.headers.get('set-cookie')!.split(';')[0]
  rememberSecret(cookie.split('=')[1])
  return cookie
}
afterAll(async () => { await cp.close() })

async function expect401(res: Response, what: string): Promise<void> {
  expect(res.status, what).toBe(401)
  expect((await res.json() as { code: string }).code, what).toBe('unauthorized')
}

describe('authentication before content type, body size and body', () => {
  it('covers every protected operation of the contract', () => {
    expect(OPERATIONS.length).toBeGreaterThanOrEqual(32)
    expect(OPERATIONS.map((op) => op.operationId)).not.toContain('login')
  })

  it.each(OPERATIONS.map((op) => [op.operationId, op] as const))('%s answers 401 without a session, whatever the body', async (_id, op) => {
    await expect401(await cp.request(op.method, op.path), `${op.method} ${op.path} without a session`)
    if (op.method === 'GET') {
      // A GET carries no body; a bogus content type must not matter either.
      await expect401(await cp.request(op.method, op.path, undefined, { 'content-type': 'text/plain' }), `${op.method} ${op.path} text/plain`)
      return
    }
    await expect401(await cp.request(op.method, op.path, 'a=1', { 'content-type': 'text/plain' }), `${op.method} ${op.path} with a text/plain body`)
    await expect401(await cp.request(op.method, op.path, OVERSIZED), `${op.method} ${op.path} with a 70 KiB JSON body`)
    await expect401(await cp.request(op.method, op.path, OVERSIZED, { 'content-type': 'text/plain' }), `${op.method} ${op.path} with a 70 KiB text/plain body`)
    await expect401(await cp.request(op.method, op.path, '{not json'), `${op.method} ${op.path} with malformed JSON`)
  })

  it.each(OPERATIONS.map((op) => [op.operationId, op] as const))('%s answers 401 to an unknown API token, even with a valid session', async (_id, op) => {
    const session = { cookie: await sessionCookie() }
    await expect401(await cp.request(op.method, op.path, undefined, { ...session, ...UNKNOWN_TOKEN }), `${op.method} ${op.path} with an unknown token`)
    await expect401(await cp.request(op.method, op.path, undefined, { ...session, authorization: 'Bearer not-a-token' }), `${op.method} ${op.path} with a malformed token`)
    if (op.method === 'GET') return
    await expect401(await cp.request(op.method, op.path, 'a=1', { ...session, ...UNKNOWN_TOKEN, 'content-type': 'text/plain' }), `${op.method} ${op.path} unknown token, text/plain body`)
    await expect401(await cp.request(op.method, op.path, OVERSIZED, { ...session, ...UNKNOWN_TOKEN }), `${op.method} ${op.path} unknown token, 70 KiB JSON body`)
  })
})
