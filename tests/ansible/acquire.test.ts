import net from 'node:net'
import { describe, it, expect, afterAll, beforeAll } from 'vitest'
import { engineHarness, type EngineHarness } from './engine-support.js'
import { startHetznerDouble, type HetznerDouble } from '../support/hetzner-double.js'
import { waitForJob } from '../support/jobs.js'
import { row } from '../support/seed.js'

describe('node_provision in acquire mode through the API and the provider double, with the fixture success.yml as node-provision.yml', () => {
  let h: EngineHarness
  let double: HetznerDouble
  let ssh: net.Server

  beforeAll(async () => {
    double = await startHetznerDouble({ serverIp: '127.0.0.1', actionPollsUntilDone: 1 })
    ssh = net.createServer((socket) => socket.end()).listen(0, '127.0.0.1')
    await new Promise((resolve) => ssh.once('listening', resolve))
    // The scheduler starts in the first test, after its job was accepted.
    h = await engineHarness({}, { providerTiming: { actionPollMs: 20, sshPollMs: 20, sshPort: (ssh.address() as net.AddressInfo).port } })
  })
  afterAll(async () => {
    await h.close()
    await double.close()
    ssh.close()
  })

  it('fails PROVIDER_NOT_CONFIGURED at start when the token was removed after acceptance, leaving the node unreachable', async () => {
    h.use('node-provision.yml', 'success.yml')
    expect((await h.cp.request('PATCH', '/_admin/settings', { hetzner_api_token: double.token, hetzner_api_base_url: double.url })).status).toBe(200)
    const res = await h.cp.request('POST', '/api/nodes', { name: 'cloud-0', provider: 'hetzner', server_type: 'cx22', location: 'fsn1', image: 'debian-12' })
    expect(res.status).toBe(202)
    const { job_id } = await res.json()
    expect((await h.cp.request('PATCH', '/_admin/settings', { hetzner_api_token: null })).status).toBe(200)
    await h.cp.scheduler!.start()
    expect(await waitForJob(h.cp, job_id, 20_000)).toMatchObject({ status: 'failed', error_code: 'PROVIDER_NOT_CONFIGURED', attempt_count: 1 })
    expect(double.requests).toHaveLength(0)
    expect((await row<{ status: string }>(h.cp, "SELECT status FROM nodes WHERE name = 'cloud-0'")).status).toBe('unreachable')
  })

  it('acquires a server, records its address and runs the fixture playbook against that address, leaving the node active', async () => {
    h.use('node-provision.yml', 'success.yml')
    expect((await h.cp.request('PATCH', '/_admin/settings', { hetzner_api_token: double.token, hetzner_api_base_url: double.url })).status).toBe(200)
    const res = await h.cp.request('POST', '/api/nodes', { name: 'cloud-1', provider: 'hetzner', server_type: 'cx22', location: 'fsn1', image: 'debian-12' })
    expect(res.status).toBe(202)
    const { job_id } = await res.json()
    expect(await waitForJob(h.cp, job_id, 60_000)).toMatchObject({ status: 'succeeded', attempt_count: 1 })
    const node = await row<{ id: string; status: string; hostname: string; public_ip: string; provider: string; provider_server_id: string; last_seen_at: string | null }>(h.cp,
      "SELECT * FROM nodes WHERE name = 'cloud-1'")
    expect(node).toMatchObject({ status: 'active', hostname: '127.0.0.1', public_ip: '127.0.0.1', provider: 'hetzner', provider_server_id: String(double.servers[0].id) })
    expect(node.last_seen_at).not.toBeNull()
    expect(double.servers[0].labels).toEqual({ 'managed-by': 'pressluft', 'pressluft-node-id': node.id })
    // The token reached the provider only in the Authorization header, never the log.
    expect(h.cp.logLines.some((l) => l.includes(double.token))).toBe(false)
    expect(h.cp.logLines.some((l) => l.includes(job_id) && l.includes(`fixture ran job ${job_id} of type node_provision`))).toBe(true)
  })
})
