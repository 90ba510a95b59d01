// The API edge over a real HTTP connection: under @hono/node-server the edge reads Node's parsed request headers
// (runtime/http/request-headers.ts) and validates query and path parameters itself (runtime/http/validate-request.ts),
// paths that app.request() in the other API tests never takes.
import http from 'node:http'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createTestControlPlane, ADMIN_EMAIL, ADMIN_PASSWORD, type TestControlPlane } from '../support/control-plane.js'
import { listen } from '../support/http-server.js'
import { createActiveSite, expectError, insertActiveNode } from '../support/seed.js'
import { rememberSecret } from '../support/log-audit.js'

let cp: TestControlPlane
let server: { url: string; close(): Promise<void> }
let session: string

beforeAll(async () => {
  cp = await createTestControlPlane()
  await cp.login()
  await insertActiveNode(cp)
  for (const slug of ['edge-one', 'edge-two', 'edge-three']) await createActiveSite(cp, slug)
  server = await listen(cp.app.fetch)
  const login = await fetch(`${server.url}/api/login`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email: ADMIN_EMAIL, password: ADMIN_PASSWORD }),
  })
  expect(login.status).toBe(200)
  session = login.headers.get('set-cookie')!.split(';')[0]
  rememberSecret(session.split('=')[1])
})
afterAll(async () => {
  await server?.close()
  await cp.close()
})

const get = (path: string, headers: Record<string, string> = {}) => fetch(`${server.url}${path}`, { headers })

describe('credentials read from the connection', () => {
  it('accepts the session cookie among other cookies and refuses a missing or unknown one', async () => {
    const res = await get('/api/sites', { cookie: `theme=dark; ${session}; lang=de` })
    expect(res.status).toBe(200)
    expect((await res.json() as { items: { slug: string }[] }).items.map((s) => s.slug)).toEqual(['edge-three', 'edge-two', 'edge-one'])
    await expectError(await get('/api/sites'), 401, 'unauthorized')
    await expectError(await get('/api/sites', { cookie: 'session_token=not-a-session' }), 401, 'unauthorized')
  })

  it('accepts an API token with any case of the Bearer scheme, refuses an unknown one, and keeps token management to sessions', async () => {
    const created = await fetch(`${server.url}/api/tokens`, {
      method: 'POST', headers: { cookie: session, 'content-type': 'application/json' }, body: JSON.stringify({ name: 'edge test' }),
    })
    expect(created.status).toBe(201)
    const { token } = await created.json() as { token: string }
    rememberSecret(token)
    expect((await get('/api/sites', { authorization: `bearer ${token}` })).status).toBe(200)
    await expectError(await get('/api/sites', { authorization: `Bearer plt_${'ab'.repeat(32)}` }), 401, 'unauthorized')
    const minted = await fetch(`${server.url}/api/tokens`, {
      method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify({ name: 'minted by a token' }),
    })
    await expectError(minted, 403, 'forbidden')
  })

  it('reads repeated headers by Node\'s rules: two Cookie lines are one cookie list, of two Authorization headers the first counts', async () => {
    // fetch() folds repeated headers itself; node:http sends a raw header list (name, value, …) line by line.
    const status = (rawHeaders: string[]) => new Promise<number>((resolve, reject) => {
      // A raw header list gets no Host header added; the server needs one.
      http.get(`${server.url}/api/sites`, { headers: ['host', new URL(server.url).host, ...rawHeaders] }, (res) => { res.resume(); resolve(res.statusCode!) }).on('error', reject)
    })
    expect(await status(['cookie', 'theme=dark', 'cookie', session])).toBe(200)
    expect(await status(['cookie', session, 'cookie', 'theme=dark'])).toBe(200)
    expect(await status(['authorization', 'Basic cHJveHk6c2VjcmV0', 'authorization', 'Bearer plt_unknown', 'cookie', session])).toBe(200)
    expect(await status(['authorization', `Bearer plt_${'ab'.repeat(32)}`, 'authorization', 'Basic cHJveHk6c2VjcmV0', 'cookie', session])).toBe(401)
  })

  it('takes the client address from X-Forwarded-For when the peer is a local proxy', async () => {
    const res = await fetch(`${server.url}/api/login`, {
      method: 'POST', headers: { 'content-type': 'application/json', 'x-forwarded-for': '203.0.113.7, 10.0.0.1' },
      body: JSON.stringify({ email: 'nobody@example.test', password: 'wrong password' }),
    })
    await expectError(res, 401, 'unauthorized')
    const line = cp.logLines.map((l) => JSON.parse(l) as { msg: string; client_ip?: string }).find((l) => l.msg === 'login failed for unknown email')
    expect(line?.client_ip).toBe('203.0.113.7')
  })
})

describe('request rules over HTTP', () => {
  it('validates the query string: a page of two with a cursor to the third site, 400 for a bad or repeated limit', async () => {
    const first = await get('/api/sites?limit=2', { cookie: session })
    expect(first.status).toBe(200)
    const page = await first.json() as { items: { slug: string }[]; next_cursor: string | null }
    expect(page.items.map((s) => s.slug)).toEqual(['edge-three', 'edge-two'])
    const rest = await (await get(`/api/sites?limit=2&cursor=${encodeURIComponent(page.next_cursor!)}`, { cookie: session })).json() as typeof page
    expect(rest).toEqual({ items: [expect.objectContaining({ slug: 'edge-one' })], next_cursor: null })
    const bad = await expectError(await get('/api/sites?limit=abc', { cookie: session }), 400, 'bad_request')
    expect(bad.details?.issues.map((i: { path: string }) => i.path)).toEqual(['limit'])
    await expectError(await get('/api/sites?limit=1&limit=2', { cookie: session }), 400, 'bad_request')
  })

  it('validates path parameters', async () => {
    const bad = await expectError(await get('/api/sites/not-a-uuid', { cookie: session }), 400, 'bad_request')
    expect(bad.details?.issues.map((i: { path: string }) => i.path)).toEqual(['id'])
    await expectError(await get('/api/sites/00000000-0000-4000-8000-000000000000', { cookie: session }), 404, 'not_found')
  })

  it('refuses a body that is not JSON (415) and a JSON body over 64 KiB (413), after authentication', async () => {
    const post = (body: string, type: string, withSession = true) => fetch(`${server.url}/api/tokens`, {
      method: 'POST', headers: { ...(withSession ? { cookie: session } : {}), 'content-type': type }, body,
    })
    await expectError(await post('name=x', 'text/plain'), 415, 'unsupported_media_type')
    await expectError(await post(JSON.stringify({ name: 'x'.repeat(70 * 1024) }), 'application/json'), 413, 'payload_too_large')
    await expectError(await post('name=x', 'text/plain', false), 401, 'unauthorized')
    await expectError(await post('{not json', 'application/json'), 400, 'bad_request')
  })
})
