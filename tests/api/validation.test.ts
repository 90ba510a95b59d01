import { describe, it, expect, beforeAll, afterAll } from 'vitest'
import { createTestControlPlane, type TestControlPlane } from '../support/control-plane.js'
import { expectError, count } from '../support/seed.js'

/** Every resource route of this suite with a valid body, so only the path id decides the answer. */
const ROUTES: { method: string; path: string; body?: unknown }[] = [
  { method: 'GET', path: '/api/sites/{id}' },
  { method: 'GET', path: '/api/sites/{id}/environments' },
  { method: 'POST', path: '/api/sites/{id}/environments', body: { name: 'S', slug: 's', type: 'staging', source_environment_id: '0b9f1c1e-6a4e-4c47-9b8e-2f5d0c3b7a10', promotion_preset: 'content-protect' } },
  { method: 'POST', path: '/api/sites/{id}/import', body: { archive_url: 'https://example.com/a.tar.gz' } },
  { method: 'POST', path: '/api/sites/{id}/reset' },
  { method: 'GET', path: '/api/environments/{id}' },
  { method: 'POST', path: '/api/environments/{id}/drift-check' },
  { method: 'POST', path: '/api/environments/{id}/deploy', body: { source_type: 'git', source_ref: 'https://example.com/r.git#main' } },
  { method: 'POST', path: '/api/environments/{id}/updates', body: { scope: 'all' } },
  { method: 'POST', path: '/api/environments/{id}/restore', body: { backup_id: '0b9f1c1e-6a4e-4c47-9b8e-2f5d0c3b7a10' } },
  { method: 'POST', path: '/api/environments/{id}/promote', body: { target_environment_id: '0b9f1c1e-6a4e-4c47-9b8e-2f5d0c3b7a10' } },
  { method: 'PATCH', path: '/api/environments/{id}/cache', body: { fastcgi_cache_enabled: false } },
  { method: 'POST', path: '/api/environments/{id}/cache/purge' },
  { method: 'POST', path: '/api/environments/{id}/magic-login' },
  { method: 'GET', path: '/api/environments/{id}/backups' },
  { method: 'POST', path: '/api/environments/{id}/backups', body: { backup_scope: 'full' } },
  { method: 'GET', path: '/api/environments/{id}/domains' },
  { method: 'POST', path: '/api/environments/{id}/domains', body: { hostname: 'www.example.com' } },
  { method: 'POST', path: '/api/environments/{id}/reset' },
  { method: 'DELETE', path: '/api/domains/{id}' },
  { method: 'GET', path: '/api/nodes/{id}' },
]

const BODY_ROUTES: { method: string; path: string }[] = [
  { method: 'POST', path: '/api/sites' },
  { method: 'POST', path: '/api/nodes' },
  { method: 'PATCH', path: '/_admin/settings' },
  ...ROUTES.filter((r) => r.body !== undefined),
]

const withId = (path: string, id: string) => path.replace('{id}', id)

describe('request validation across the resource API', () => {
  let cp: TestControlPlane
  beforeAll(async () => { cp = await createTestControlPlane(); await cp.login() })
  afterAll(async () => { await cp.close() })

  it('answers 400 bad_request for a malformed path id on every route', async () => {
    for (const route of ROUTES) {
      for (const bad of ['not-a-uuid', '123', '0b9f1c1e6a4e4c479b8e2f5d0c3b7a10']) {
        const body = await expectError(await cp.request(route.method, withId(route.path, bad), route.body), 400, 'bad_request')
        expect(body.details?.issues?.[0]?.path, `${route.method} ${route.path}`).toBe('id')
      }
    }
  })

  it('answers 404 not_found for an unknown path id on every route, and writes nothing', async () => {
    for (const route of ROUTES) {
      await expectError(await cp.request(route.method, withId(route.path, crypto.randomUUID()), route.body), 404, 'not_found')
    }
    expect(await count(cp, 'jobs')).toBe(0)
    expect(await count(cp, 'audit_logs', "action NOT IN ('login')")).toBe(0)
  })

  it('answers 401 unauthorized without a session before looking at ids or bodies', async () => {
    for (const route of [...ROUTES, { method: 'GET', path: '/api/sites' }, { method: 'POST', path: '/api/sites', body: {} }, { method: 'GET', path: '/api/nodes' },
      { method: 'POST', path: '/api/nodes', body: {} }, { method: 'GET', path: '/api/metrics' }, { method: 'GET', path: '/_admin/settings' }]) {
      await expectError(await cp.request(route.method, withId(route.path, 'x'), route.body, { cookie: '' }), 401, 'unauthorized')
    }
  })

  it('rejects unknown body fields, non-JSON bodies and malformed JSON on every route with a body', async () => {
    for (const route of BODY_ROUTES) {
      const path = withId(route.path, crypto.randomUUID())
      const unknown = await expectError(await cp.request(route.method, path, { unexpected_field: 1 }), 400, 'bad_request')
      expect(unknown.details!.issues.length, `${route.method} ${route.path}`).toBeGreaterThan(0)
      await expectError(await cp.request(route.method, path, 'a=1', { 'content-type': 'text/plain' }), 415, 'unsupported_media_type')
      await expectError(await cp.request(route.method, path, '{"broken":'), 400, 'bad_request')
    }
  })

  it('rejects values Ansible would template, in every free-text field', async () => {
    await expectError(await cp.request('POST', '/api/sites', { name: 'x {% raw %}', slug: 'x' }), 400, 'bad_request')
    await expectError(await cp.request('POST', `/api/sites/${crypto.randomUUID()}/environments`, { name: '{# x #}', slug: 's', type: 'staging', source_environment_id: crypto.randomUUID(), promotion_preset: 'content-protect' }), 400, 'bad_request')
    await expectError(await cp.request('POST', `/api/environments/${crypto.randomUUID()}/deploy`, { source_type: 'git', source_ref: 'https://example.com/{{x}}.git#main' }), 400, 'bad_request')
  })
})
