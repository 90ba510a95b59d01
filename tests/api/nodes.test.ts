import { describe, it, expect, beforeEach, afterEach } from 'vitest'
import { createTestControlPlane, type TestControlPlane } from '../support/control-plane.js'
import { jobById, jobsOfType, auditsFor, count, row, expectError, expectNewestFirst } from '../support/seed.js'

interface NodeRow { id: string; name: string; hostname: string; public_ip: string | null; ssh_port: number; ssh_user: string; status: string; is_local: number; provider: string | null; state_version: number }

const register = { name: 'web-1', hostname: 'web-1.example.com', public_ip: '203.0.113.10' }
const acquire = { name: 'cloud-1', provider: 'hetzner', server_type: 'cx22', location: 'nbg1', image: 'ubuntu-24.04' }

describe('POST /api/nodes', () => {
  let cp: TestControlPlane
  beforeEach(async () => { cp = await createTestControlPlane(); await cp.login() })
  afterEach(async () => { await cp.close() })

  it('start-up registers no node and enqueues no job', async () => {
    expect(await (await cp.request('GET', '/api/nodes')).json()).toEqual({ items: [], next_cursor: null })
    expect(await count(cp, 'nodes')).toBe(0)
    expect(await count(cp, 'jobs')).toBe(0)
  })

  it('registers an SSH host as provisioning with a global node_provision job and an audit row', async () => {
    const res = await cp.request('POST', '/api/nodes', register)
    expect(res.status).toBe(202)
    const job = await jobById(cp, (await res.json()).job_id)
    const node = await row<NodeRow>(cp, 'SELECT * FROM nodes')
    expect(node).toMatchObject({ name: 'web-1', hostname: 'web-1.example.com', public_ip: '203.0.113.10', ssh_port: 22, ssh_user: 'root', status: 'provisioning', is_local: 0, provider: null, state_version: 1 })
    expect(job).toMatchObject({ job_type: 'node_provision', site_id: null, environment_id: null, node_id: node.id, status: 'queued' })
    expect(job.payload).toEqual({ mode: 'register' })
    const [audit] = await auditsFor(cp, 'node_provision')
    expect(audit).toMatchObject({ resource_type: 'node', resource_id: node.id, job_id: job.id, result: 'accepted' })
    const api = await (await cp.request('GET', `/api/nodes/${node.id}`)).json()
    expect(api).toMatchObject({ id: node.id, is_local: false, provider: null, provider_server_id: null, last_seen_at: null, status: 'provisioning' })
  })

  it('marks localhost as the local node and refuses a second local node', async () => {
    expect((await cp.request('POST', '/api/nodes', { name: 'local', hostname: 'localhost', public_ip: '203.0.113.5', ssh_port: 2222, ssh_user: 'deploy' })).status).toBe(202)
    expect(await row<NodeRow>(cp, 'SELECT * FROM nodes')).toMatchObject({ is_local: 1, ssh_port: 2222, ssh_user: 'deploy' })
    const second = await expectError(await cp.request('POST', '/api/nodes', { name: 'local-2', hostname: '127.0.0.1', public_ip: '203.0.113.5' }), 409, 'conflict')
    expect(second.details).toMatchObject({ node_id: expect.any(String) })
    expect(await count(cp, 'nodes')).toBe(1)
  })

  it('answers the open node_provision for a re-post, and re-provisions with the new fields once it finished', async () => {
    const first = await (await cp.request('POST', '/api/nodes', register)).json()
    const again = await cp.request('POST', '/api/nodes', { ...register, public_ip: '203.0.113.99' })
    expect(again.status).toBe(202)
    expect((await again.json()).job_id).toBe(first.job_id)
    expect((await row<NodeRow>(cp, 'SELECT * FROM nodes')).public_ip).toBe('203.0.113.10')
    await cp.services.db.execute({ sql: "UPDATE jobs SET status = 'running' WHERE id = ?", args: [first.job_id] })
    expect((await (await cp.request('POST', '/api/nodes', register)).json()).job_id).toBe(first.job_id)

    await cp.services.db.execute({ sql: "UPDATE jobs SET status = 'succeeded' WHERE id = ?", args: [first.job_id] })
    await cp.services.db.execute({ sql: "UPDATE nodes SET status = 'unreachable'", args: [] })
    const res = await cp.request('POST', '/api/nodes', { ...register, hostname: '203.0.113.99', public_ip: '203.0.113.99', ssh_port: 2200 })
    expect(res.status).toBe(202)
    const { job_id: jobId } = await res.json()
    expect(jobId).not.toBe(first.job_id)
    expect(await row<NodeRow>(cp, 'SELECT * FROM nodes')).toMatchObject({ hostname: '203.0.113.99', public_ip: '203.0.113.99', ssh_port: 2200, status: 'provisioning', state_version: 2 })
    expect(await count(cp, 'nodes')).toBe(1)
    expect(await jobsOfType(cp, 'node_provision')).toHaveLength(2)
    expect((await auditsFor(cp, 'node_provision'))[1].details).toMatchObject({ reprovision: true })
  })

  it('acquires from Hetzner only with a token, keeping the name as SSH target until the server exists', async () => {
    await expectError(await cp.request('POST', '/api/nodes', acquire), 409, 'provider_not_configured')
    expect(await count(cp, 'nodes')).toBe(0)
    expect((await cp.request('PATCH', '/_admin/settings', { hetzner_api_token: 'hcloud-token-value' })).status).toBe(200)
    const res = await cp.request('POST', '/api/nodes', acquire)
    expect(res.status).toBe(202)
    const job = await jobById(cp, (await res.json()).job_id)
    const node = await row<NodeRow>(cp, 'SELECT * FROM nodes')
    expect(node).toMatchObject({ name: 'cloud-1', hostname: 'cloud-1', public_ip: null, provider: 'hetzner', status: 'provisioning', is_local: 0 })
    expect(job.payload).toEqual({ mode: 'acquire', server_type: 'cx22', location: 'nbg1', image: 'ubuntu-24.04' })
  })

  it('answers 409 node_exists when the name belongs to a node of the other kind', async () => {
    expect((await cp.request('PATCH', '/_admin/settings', { hetzner_api_token: 'hcloud-token-value' })).status).toBe(200)
    await cp.request('POST', '/api/nodes', register)
    await expectError(await cp.request('POST', '/api/nodes', { ...acquire, name: register.name }), 409, 'node_exists')
    await cp.request('POST', '/api/nodes', acquire)
    await expectError(await cp.request('POST', '/api/nodes', { ...register, name: acquire.name }), 409, 'node_exists')
    expect(await count(cp, 'nodes')).toBe(2)
  })

  it('rejects invalid register and acquire bodies with 400', async () => {
    for (const body of [
      { ...register, name: 'Web_1' },
      { ...register, public_ip: '300.1.1.1' },
      { ...register, public_ip: '::1' },
      { ...register, ssh_port: 0 },
      { ...register, ssh_port: 70000 },
      { ...register, ssh_user: 'Root' },
      { ...register, hostname: 'bad host' },
      { ...register, provider: 'hetzner' },
      { ...acquire, server_type: 'CX22' },
      { ...acquire, provider: 'aws' },
      { name: 'x' },
    ]) {
      await expectError(await cp.request('POST', '/api/nodes', body), 400, 'bad_request')
    }
    expect(await count(cp, 'nodes')).toBe(0)
  })
})

describe('GET /api/nodes', () => {
  let cp: TestControlPlane
  beforeEach(async () => { cp = await createTestControlPlane(); await cp.login() })
  afterEach(async () => { await cp.close() })

  it('pages through nodes newest first and answers 404/400 for single lookups', async () => {
    for (let i = 0; i < 3; i++) expect((await cp.request('POST', '/api/nodes', { name: `n${i}`, hostname: `n${i}.example.com`, public_ip: `203.0.113.${i + 1}` })).status).toBe(202)
    const first = await (await cp.request('GET', '/api/nodes?limit=2')).json()
    const second = await (await cp.request('GET', `/api/nodes?limit=2&cursor=${first.next_cursor}`)).json()
    expect(second.next_cursor).toBeNull()
    const all = [...first.items, ...second.items]
    expect(all.map((n) => n.name).sort()).toEqual(['n0', 'n1', 'n2'])
    expectNewestFirst(all)
    await expectError(await cp.request('GET', `/api/nodes/${crypto.randomUUID()}`), 404, 'not_found')
    await expectError(await cp.request('GET', '/api/nodes/n0'), 400, 'bad_request')
    await expectError(await cp.request('GET', '/api/nodes?cursor=Zm9v'), 400, 'bad_request')
  })
})
