// Acquisition end to end: POST /api/nodes { provider: "hetzner" } against the Hetzner double standing behind the lab,
// then the real node-provision.yml, then a live site on the acquired node.
//
// This file needs a FRESH server by nature — the acquisition itself creates it: the double boots a new lab node named
// like the server (tests/support/hetzner-lab.ts), with only the key registered at the provider in root's
// authorized_keys. It does not use node1 (the run's provisioned node) or node2. One acquired + provisioned node only.
import http from 'node:http'
import crypto from 'node:crypto'
import net from 'node:net'
import path from 'node:path'
import { describe, it, expect, beforeAll, afterAll } from 'vitest'
import { execa } from 'execa'
import { labExec, labStatus } from '../lab/lab.js'
import { openE2e, type E2e } from '../support/e2e.js'
import { startHetznerDouble, md5Fingerprint, type HetznerDouble } from '../support/hetzner-double.js'
import { labMachines } from '../support/hetzner-lab.js'
import { waitForJob } from '../support/jobs.js'
import { rememberSecret } from '../support/log-audit.js'

// Unique per run: with PRESSLUFT_E2E_KEEP_LAB=1 the control plane (and its nodes from earlier runs) is reused.
const RUN = crypto.randomBytes(3).toString('hex')
const NAME = `acq-${RUN}`
const SECOND = `acq2-${RUN}`
const SLUG = `acq${RUN}`
const ACQUIRE = { provider: 'hetzner', server_type: 'cx22', location: 'fsn1', image: 'debian-12' }

function httpGet(ip: string, host: string, urlPath = '/'): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: ip, port: 80, path: urlPath, headers: { host }, timeout: 20_000 }, (res) => {
      let body = ''
      res.on('data', (d) => { body += d })
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }))
    })
    req.on('error', reject)
    req.on('timeout', () => req.destroy(new Error('timeout')))
    req.end()
  })
}

function tcpOpen(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port, timeout: 2000 })
    const done = (open: boolean) => { socket.destroy(); resolve(open) }
    socket.once('connect', () => done(true))
    socket.once('timeout', () => done(false))
    socket.once('error', () => done(false))
  })
}

interface NodeView { id: string; name: string; status: string; hostname: string; public_ip: string | null; provider: string | null; provider_server_id: string | null }

describe('a server bought through the Hetzner API ends as a live node', () => {
  let e2e: E2e
  let double: HetznerDouble
  let token: string
  let acquired: NodeView | undefined
  const timings: Record<string, number> = {}

  const nodeByName = async (name: string): Promise<NodeView | undefined> => {
    const page = await (await e2e.cp.request('GET', '/api/nodes?limit=200')).json() as { items: NodeView[] }
    return page.items.find((n) => n.name === name)
  }
  const calls = (method: string, pathRe: RegExp) => double.requests.filter((r) => r.method === method && pathRe.test(r.path.split('?')[0]))

  beforeAll(async () => {
    e2e = await openE2e()
    token = `hz-e2e-${crypto.randomBytes(24).toString('base64url')}`
    rememberSecret(token)
    double = await startHetznerDouble({ token, machines: labMachines(e2e.instance) })
    const res = await e2e.cp.request('PATCH', '/_admin/settings', { hetzner_api_token: token, hetzner_api_base_url: double.url })
    expect(res.status).toBe(200)
  })

  afterAll(async () => {
    console.log(`hetzner acquisition timings (s): ${JSON.stringify(timings)}`)
    // Leaves the shared control plane without a provider, and no lab node behind (close() stops any server left).
    await e2e?.cp.request('PATCH', '/_admin/settings', { hetzner_api_token: null, hetzner_api_base_url: null })
    await double?.close()
    await e2e?.close()
  })

  it('POST /api/nodes acquires a server (key registered, server created, running, SSH) and the real node-provision.yml leaves it active at the provider\'s address', async () => {
    const started = Date.now()
    const res = await e2e.cp.request('POST', '/api/nodes', { name: NAME, ...ACQUIRE })
    expect(res.status).toBe(202)
    const { job_id: jobId } = await res.json() as { job_id: string }
    // Posting the same name while its job is queued or running answers that job.
    const again = await e2e.cp.request('POST', '/api/nodes', { name: NAME, ...ACQUIRE })
    expect(again.status).toBe(202)
    expect((await again.json() as { job_id: string }).job_id).toBe(jobId)

    const job = await waitForJob(e2e.cp, jobId, 900_000)
    timings.accepted_to_active = (Date.now() - started) / 1000
    expect(job.error_message ?? '').toBe('')
    expect(job).toMatchObject({ status: 'succeeded', attempt_count: 1 })

    // At the provider: one key (the control plane's, by fingerprint), one labelled server that booted as a real one.
    const settings = await (await e2e.cp.request('GET', '/_admin/settings')).json() as { ssh_public_key: string }
    expect(double.sshKeys).toHaveLength(1)
    expect(double.sshKeys[0].fingerprint).toBe(md5Fingerprint(settings.ssh_public_key))
    expect(double.servers).toHaveLength(1)
    const [server] = double.servers
    expect(server).toMatchObject({ name: NAME, status: 'running', server_type: { name: 'cx22' }, image: { name: 'debian-12' } })
    expect(double.statusLog.filter((s) => s.server_id === server.id).map((s) => s.status)).toEqual(['initializing', 'starting', 'running'])
    const ip = server.public_net.ipv4!.ip
    timings.accepted_to_server_running = (double.statusLog.find((s) => s.server_id === server.id && s.status === 'running')!.at - started) / 1000

    acquired = await nodeByName(NAME)
    expect(acquired).toMatchObject({ status: 'active', provider: 'hetzner', provider_server_id: String(server.id), hostname: ip, public_ip: ip })
    expect(server.labels).toEqual({ 'managed-by': 'pressluft', 'pressluft-node-id': acquired!.id })

    // The provider's address is the new lab node, whose root trusts exactly the key registered at the provider.
    const labNode = labStatus({ instance: e2e.instance }).nodes.find((n) => n.name === NAME)
    expect(labNode?.ip).toBe(ip)
    const keys = (await labExec(NAME, ['cat', '/root/.ssh/authorized_keys'], { instance: e2e.instance })).stdout.trim().split('\n')
    expect(keys).toEqual([settings.ssh_public_key.trim()])
    // First contact with a host never seen before: the key it booted with was accepted and recorded (hashed) for its address.
    const hostKey = (await labExec(NAME, ['cat', '/etc/ssh/ssh_host_ed25519_key.pub'], { instance: e2e.instance })).stdout.trim().split(/\s+/)[1]
    const known = await execa('ssh-keygen', ['-F', ip, '-f', path.join(e2e.cp.config.dataDir, 'known_hosts')], { reject: false })
    expect(known.stdout).toContain(hostKey)
    // node-provision.yml really ran there: the web stack is installed and nginx answers.
    const nginx = await labExec(NAME, ['dpkg-query', '-W', '-f=${Status}', 'nginx'], { instance: e2e.instance, reject: false })
    expect(nginx.stdout).toContain('install ok installed')
    expect(await tcpOpen(ip, 80)).toBe(true)
  })

  it('a second acquisition finds the registered key by fingerprint and does not register it again', async () => {
    // Its server creation is refused (sold out), so this costs no second node.
    double.fail('POST', /^\/servers$/, 422, 'resource_unavailable', 'server type cx22 is sold out in fsn1')
    const res = await e2e.cp.request('POST', '/api/nodes', { name: SECOND, ...ACQUIRE })
    expect(res.status).toBe(202)
    const job = await waitForJob(e2e.cp, (await res.json() as { job_id: string }).job_id, 120_000)
    expect(job).toMatchObject({ status: 'failed', error_code: 'PROVIDER_SERVER_CREATE_FAILED', attempt_count: 1 })
    expect(job.error_message).toContain('sold out')
    expect(calls('GET', /^\/ssh_keys$/)).toHaveLength(2)
    expect(calls('POST', /^\/ssh_keys$/)).toHaveLength(1)
    expect(double.sshKeys).toHaveLength(1)
    expect(double.servers.map((s) => s.name)).toEqual([NAME])
    expect(await nodeByName(SECOND)).toMatchObject({ status: 'unreachable', provider_server_id: null })
  })

  it('a site created on the acquired node answers on its preview URL', async () => {
    expect(acquired, 'the acquisition test must pass first').toBeDefined()
    const started = Date.now()
    const res = await e2e.cp.request('POST', '/api/sites', { name: 'Acquired Blog', slug: SLUG, node_id: acquired!.id })
    expect(res.status).toBe(202)
    const job = await waitForJob(e2e.cp, (await res.json() as { job_id: string }).job_id, 600_000)
    expect(job.error_message ?? '').toBe('')
    expect(job.status).toBe('succeeded')
    const sites = await (await e2e.cp.request('GET', '/api/sites?limit=200')).json() as { items: { id: string; slug: string }[] }
    const site = sites.items.find((s) => s.slug === SLUG)!
    const envs = await (await e2e.cp.request('GET', `/api/sites/${site.id}/environments`)).json() as { items: { preview_url: string; status: string; node_id: string }[] }
    expect(envs.items[0]).toMatchObject({ status: 'active', node_id: acquired!.id })
    const previewHost = new URL(envs.items[0].preview_url).hostname
    expect(previewHost.endsWith(`.${acquired!.public_ip!.replaceAll('.', '-')}.sslip.io`)).toBe(true)
    const page = await httpGet(acquired!.public_ip!, previewHost)
    timings.site_create_to_live = (Date.now() - started) / 1000
    expect(page.status).toBe(200)
    expect(page.body).toContain('Acquired Blog')
  })

  it('deleting the server at the provider stops its lab node', async () => {
    expect(acquired, 'the acquisition test must pass first').toBeDefined()
    const server = double.servers.find((s) => s.name === NAME)!
    const res = await fetch(`${double.url}/servers/${server.id}`, { method: 'DELETE', headers: { authorization: `Bearer ${token}` } })
    expect(res.status).toBe(200)
    const { action } = await res.json() as { action: { id: number } }
    const deadline = Date.now() + 30_000
    while (double.actions.find((a) => a.id === action.id)?.status === 'running' && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200))
    expect(double.actions.find((a) => a.id === action.id)?.status).toBe('success')
    expect(labStatus({ instance: e2e.instance }).nodes.map((n) => n.name)).not.toContain(NAME)
    expect(await tcpOpen(acquired!.public_ip!, 22)).toBe(false)
  })
})
