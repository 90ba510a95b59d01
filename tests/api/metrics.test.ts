import { describe, it, expect, beforeEach, afterEach } from 'vitest'
import { createTestControlPlane, type TestControlPlane } from '../support/control-plane.js'
import { insertActiveNode, createActiveSite, expectError } from '../support/seed.js'

describe('GET /api/metrics', () => {
  let cp: TestControlPlane
  beforeEach(async () => { cp = await createTestControlPlane(); await cp.login() })
  afterEach(async () => { await cp.close() })

  const metrics = async () => {
    const res = await cp.request('GET', '/api/metrics')
    expect(res.status).toBe(200)
    return res.json()
  }

  it('counts jobs, active nodes and sites from the database at request time', async () => {
    expect(await metrics()).toEqual({ jobs_running: 0, jobs_queued: 0, nodes_active: 0, sites_total: 0 })
    await insertActiveNode(cp)
    await insertActiveNode(cp, { status: 'unreachable' })
    expect((await cp.request('POST', '/api/nodes', { name: 'new', hostname: 'new.example.com', public_ip: '203.0.113.3' })).status).toBe(202)
    await createActiveSite(cp, 'done')
    expect((await cp.request('POST', '/api/sites', { name: 'Pending', slug: 'pending' })).status).toBe(202)
    expect(await metrics()).toEqual({ jobs_running: 0, jobs_queued: 2, nodes_active: 1, sites_total: 2 })
    await cp.services.db.execute("UPDATE jobs SET status = 'running' WHERE job_type = 'node_provision'")
    expect(await metrics()).toEqual({ jobs_running: 1, jobs_queued: 1, nodes_active: 1, sites_total: 2 })
  })

  it('requires a session', async () => {
    await expectError(await cp.request('GET', '/api/metrics', undefined, { cookie: '' }), 401, 'unauthorized')
  })
})
