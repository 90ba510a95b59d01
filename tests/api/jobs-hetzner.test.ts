import crypto from 'node:crypto'
import fs from 'node:fs'
import net from 'node:net'
import path from 'node:path'
import { execa } from 'execa'
import { describe, it, expect, beforeEach, afterEach } from 'vitest'
import { createTestControlPlane, type TestControlPlane } from '../support/control-plane.js'
import { startHetznerDouble, md5Fingerprint, type HetznerDouble } from '../support/hetzner-double.js'
import { row } from '../support/seed.js'
import { acquireHetznerServer, keyFingerprints, ProviderError, type ProviderTiming } from '../../runtime/providers/hetzner.js'
import { readNode } from '../../runtime/store/job-context.js'
import { PUBLIC_KEY_SECRET } from '../../runtime/ssh/control-plane-key.js'

const FAST: Partial<ProviderTiming> = { actionPollMs: 10, actionTimeoutMs: 2000, sshPollMs: 20, sshWaitMs: 300, requestTimeoutMs: 2000 }

describe('Hetzner acquisition (node_provision mode acquire)', () => {
  let cp: TestControlPlane
  let double: HetznerDouble
  let ssh: net.Server
  let sshPort: number
  let publicKey: string

  beforeEach(async () => {
    cp = await createTestControlPlane()
    double = await startHetznerDouble({ serverIp: '127.0.0.1' })
    ssh = net.createServer((socket) => socket.end()).listen(0, '127.0.0.1')
    await new Promise((resolve) => ssh.once('listening', resolve))
    sshPort = (ssh.address() as net.AddressInfo).port
    publicKey = (await cp.services.secrets.get(PUBLIC_KEY_SECRET))!
  })
  afterEach(async () => {
    await double.close()
    ssh.close()
    await cp.close()
  })

  async function addNode(name: string, fields: { provider_server_id?: string } = {}): Promise<string> {
    const id = crypto.randomUUID()
    const now = new Date().toISOString()
    await cp.services.db.execute({ sql: `INSERT INTO nodes (id, name, hostname, status, is_local, provider, provider_server_id, created_at, updated_at)
      VALUES (?, ?, ?, 'provisioning', 0, 'hetzner', ?, ?, ?)`, args: [id, name, name, fields.provider_server_id ?? null, now, now] })
    return id
  }

  async function acquire(nodeId: string, timing: Partial<ProviderTiming> = {}, token = double.token, knownHostsFile?: string) {
    return acquireHetznerServer({
      db: cp.services.db, node: (await readNode(cp.services.db, nodeId))!, spec: { server_type: 'cx22', location: 'fsn1', image: 'debian-12' },
      baseUrl: double.url, token, publicKey, signal: new AbortController().signal, log: cp.services.logger, timing: { ...FAST, sshPort, ...timing }, knownHostsFile,
    })
  }

  async function codeOf(promise: Promise<unknown>): Promise<string> {
    try { await promise } catch (error) { if (error instanceof ProviderError) return error.code; throw error }
    return 'no error'
  }

  const calls = (method: string, path: RegExp) => double.requests.filter((r) => r.method === method && path.test(r.path))

  it('registers the control-plane key once, creates a labelled server, waits for its action and records its address', async () => {
    const nodeId = await addNode('web-1')
    const node = await acquire(nodeId)
    const { md5, sha256Hex } = keyFingerprints(publicKey)
    expect(md5).toBe(md5Fingerprint(publicKey))
    expect(double.sshKeys).toMatchObject([{ name: `pressluft-${sha256Hex.slice(0, 12)}`, fingerprint: md5, labels: { 'managed-by': 'pressluft' } }])
    const [create] = calls('POST', /^\/servers$/)
    expect(create.body).toEqual({ name: 'web-1', server_type: 'cx22', location: 'fsn1', image: 'debian-12', ssh_keys: [double.sshKeys[0].id],
      start_after_create: true, labels: { 'managed-by': 'pressluft', 'pressluft-node-id': nodeId } })
    expect(calls('GET', /^\/actions\//).length).toBe(3)
    expect(node).toMatchObject({ provider_server_id: String(double.servers[0].id), hostname: '127.0.0.1', public_ip: '127.0.0.1', ssh_user: 'root', ssh_port: 22 })

    await acquire(await addNode('web-2'))
    expect(calls('POST', /^\/ssh_keys$/)).toHaveLength(1)
    expect(double.sshKeys).toHaveLength(1)
    expect(double.servers.map((s) => s.name)).toEqual(['web-1', 'web-2'])
  })

  it('lists the keys again when a concurrent registration wins (409 uniqueness_error)', async () => {
    const nodeId = await addNode('web-1')
    double.before('POST', /^\/ssh_keys$/, () => {
      double.sshKeys.push({ id: 4242, name: 'someone-else', fingerprint: md5Fingerprint(publicKey), public_key: publicKey, labels: {}, created: new Date().toISOString() })
    })
    await acquire(nodeId)
    expect(calls('GET', /^\/ssh_keys/)).toHaveLength(2)
    expect((calls('POST', /^\/servers$/)[0].body as { ssh_keys: number[] }).ssh_keys).toEqual([4242])
  })

  it('adopts a server labelled with the node id instead of creating another, and skips the unknown action', async () => {
    const nodeId = await addNode('web-1')
    const existing = double.addServer({ name: 'web-1', labels: { 'managed-by': 'pressluft', 'pressluft-node-id': nodeId } })
    const node = await acquire(nodeId)
    expect(calls('POST', /^\/servers$/)).toHaveLength(0)
    expect(calls('GET', /^\/actions\//)).toHaveLength(0)
    expect(node.provider_server_id).toBe(String(existing.id))
  })

  it('refuses a foreign server that already uses the node name (PROVIDER_SERVER_CREATE_FAILED)', async () => {
    const nodeId = await addNode('web-1')
    double.addServer({ name: 'web-1', labels: { owner: 'someone-else' } })
    expect(await codeOf(acquire(nodeId))).toBe('PROVIDER_SERVER_CREATE_FAILED')
    expect(calls('POST', /^\/servers$/)).toHaveLength(0)
    expect((await row<{ provider_server_id: string | null }>(cp, 'SELECT provider_server_id FROM nodes WHERE id = ?', [nodeId])).provider_server_id).toBeNull()
  })

  it('keeps the created server recorded when its action fails (PROVIDER_ACTION_FAILED), and a later attempt skips to fetching it', async () => {
    double.options.actionOutcome = 'error'
    const nodeId = await addNode('web-1')
    expect(await codeOf(acquire(nodeId))).toBe('PROVIDER_ACTION_FAILED')
    const recorded = await row<{ provider_server_id: string }>(cp, 'SELECT provider_server_id FROM nodes WHERE id = ?', [nodeId])
    expect(recorded.provider_server_id).toBe(String(double.servers[0].id))
    double.servers[0].status = 'running'
    const before = double.requests.length
    await acquire(nodeId)
    const later = double.requests.slice(before).map((r) => `${r.method} ${r.path.split('?')[0]}`)
    expect(later).toEqual(['GET /ssh_keys', `GET /servers/${double.servers[0].id}`])
  })

  it('reports PROVIDER_NOT_READY while the action runs too long, the server is not running or SSH stays closed', async () => {
    double.options.actionPollsUntilDone = 1000
    const slow = await addNode('web-1')
    expect(await codeOf(acquire(slow, { actionTimeoutMs: 100 }))).toBe('PROVIDER_NOT_READY')
    double.servers[0].status = 'starting'
    expect(await codeOf(acquire(slow))).toBe('PROVIDER_NOT_READY')
    double.servers[0].status = 'running'
    const closed = await new Promise<number>((resolve) => { const s = net.createServer().listen(0, '127.0.0.1', () => { const p = (s.address() as net.AddressInfo).port; s.close(() => resolve(p)) }) })
    expect(await codeOf(acquire(slow, { sshPort: closed, sshWaitMs: 100 }))).toBe('PROVIDER_NOT_READY')
  })

  it('maps provider errors: 401 → PROVIDER_AUTH_FAILED, 429/5xx/network → PROVIDER_UNAVAILABLE, key or create rejections', async () => {
    const nodeId = await addNode('web-1')
    expect(await codeOf(acquire(nodeId, {}, 'wrong-token'))).toBe('PROVIDER_AUTH_FAILED')
    double.fail('GET', /^\/ssh_keys$/, 429, 'rate_limit_exceeded')
    expect(await codeOf(acquire(nodeId))).toBe('PROVIDER_UNAVAILABLE')
    double.fail('GET', /^\/servers$/, 503, 'unavailable')
    expect(await codeOf(acquire(nodeId))).toBe('PROVIDER_UNAVAILABLE')
    double.fail('POST', /^\/ssh_keys$/, 422, 'invalid_input', 'bad key')
    double.sshKeys.length = 0
    expect(await codeOf(acquire(nodeId))).toBe('PROVIDER_SSH_KEY_REGISTRATION_FAILED')
    double.fail('POST', /^\/servers$/, 422, 'resource_unavailable', 'server type sold out')
    expect(await codeOf(acquire(nodeId))).toBe('PROVIDER_SERVER_CREATE_FAILED')
    const down = await new Promise<number>((resolve) => { const s = net.createServer().listen(0, '127.0.0.1', () => { const p = (s.address() as net.AddressInfo).port; s.close(() => resolve(p)) }) })
    const offline = acquireHetznerServer({
      db: cp.services.db, node: (await readNode(cp.services.db, nodeId))!, spec: { server_type: 'cx22', location: 'fsn1', image: 'debian-12' },
      baseUrl: `http://127.0.0.1:${down}`, token: double.token, publicKey, signal: new AbortController().signal, log: cp.services.logger, timing: FAST,
    })
    expect(await codeOf(offline)).toBe('PROVIDER_UNAVAILABLE')
  })

  it('drops host keys pinned for the address when a node gets it new (providers reuse addresses), and keeps the pin of a node that keeps its address', async () => {
    const knownHosts = path.join(cp.dir, 'known_hosts')
    const key = (n: number) => `ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI${String(n).repeat(43).slice(0, 43)}`
    // An earlier server's pin at the address the double hands out, and another host's; hashed as OpenSSH does by default.
    fs.writeFileSync(knownHosts, `127.0.0.1 ${key(1)}\n198.51.100.7 ${key(2)}\n`)
    await execa('ssh-keygen', ['-H', '-f', knownHosts])
    const pinned = async (host: string) => (await execa('ssh-keygen', ['-F', host, '-f', knownHosts], { reject: false })).stdout
    expect(await pinned('127.0.0.1')).toContain(key(1).split(' ')[1])

    const nodeId = await addNode('web-1')
    await acquire(nodeId, {}, double.token, knownHosts)
    expect(await pinned('127.0.0.1')).toBe('')
    expect(await pinned('198.51.100.7')).toContain(key(2).split(' ')[1])

    // The new server's key is pinned on first use; acquiring the same node again (same address) keeps that pin.
    fs.appendFileSync(knownHosts, `127.0.0.1 ${key(3)}\n`)
    await acquire(nodeId, {}, double.token, knownHosts)
    expect(await pinned('127.0.0.1')).toContain(key(3).split(' ')[1])
  })
})
