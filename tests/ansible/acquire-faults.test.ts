// Provider faults of node_provision (mode acquire) through the API and the job engine, against the Hetzner double and the
// fixture playbook success.yml (no real node needed): what the operator sees — job status, error_code and message, the
// node row — and what was bought at the provider.
import crypto from 'node:crypto'
import net from 'node:net'
import { describe, it, expect, beforeEach, afterEach } from 'vitest'
import { engineHarness, until, type EngineHarness } from './engine-support.js'
import { startHetznerDouble, type HetznerDouble } from '../support/hetzner-double.js'
import { waitForJob } from '../support/jobs.js'
import { rememberSecret } from '../support/log-audit.js'
import { row } from '../support/seed.js'
import type { ProviderTiming } from '../../runtime/providers/hetzner.js'

const ACQUIRE = { provider: 'hetzner', server_type: 'cx22', location: 'fsn1', image: 'debian-12' }

interface NodeRow { id: string; status: string; hostname: string; public_ip: string | null; provider_server_id: string | null }
interface JobRow { status: string; error_code: string | null; error_message: string | null; attempt_count: number; run_after: string | null; updated_at: string }

describe('Hetzner acquisition faults through the API: job outcome, node row, servers bought', () => {
  let h: EngineHarness | undefined
  let double: HetznerDouble
  let ssh: net.Server

  beforeEach(async () => {
    // A fresh random token per test: the global log check fails the run if it ever reaches a log line.
    const token = `hz-${crypto.randomBytes(18).toString('base64url')}`
    rememberSecret(token)
    double = await startHetznerDouble({ token, serverIp: '127.0.0.1', actionPollsUntilDone: 1 })
    ssh = net.createServer((socket) => socket.end()).listen(0, '127.0.0.1')
    await new Promise((resolve) => ssh.once('listening', resolve))
  })
  afterEach(async () => {
    await h?.close()
    h = undefined
    await double.close()
    ssh.close()
  })

  /** A control plane whose provider timing is short, with the double configured as the provider; scheduler started. */
  async function start(timing: Partial<ProviderTiming> = {}, env: Record<string, string> = {}, scheduler = true): Promise<EngineHarness> {
    h = await engineHarness(env, {
      providerTiming: { actionPollMs: 20, actionTimeoutMs: 10_000, sshPollMs: 20, sshWaitMs: 2000, requestTimeoutMs: 5000, sshPort: (ssh.address() as net.AddressInfo).port, ...timing },
    })
    h.use('node-provision.yml', 'success.yml')
    const res = await h.cp.request('PATCH', '/_admin/settings', { hetzner_api_token: double.token, hetzner_api_base_url: double.url })
    expect(res.status).toBe(200)
    if (scheduler) await h.cp.scheduler!.start()
    return h
  }

  async function post(name: string): Promise<string> {
    const res = await h!.cp.request('POST', '/api/nodes', { name, ...ACQUIRE })
    expect(res.status).toBe(202)
    return (await res.json() as { job_id: string }).job_id
  }

  const job = (id: string) => row<JobRow>(h!.cp, 'SELECT status, error_code, error_message, attempt_count, run_after, updated_at FROM jobs WHERE id = ?', [id])
  const node = (name: string) => row<NodeRow>(h!.cp, 'SELECT id, status, hostname, public_ip, provider_server_id FROM nodes WHERE name = ?', [name])
  const calls = (method: string, path: RegExp) => double.requests.filter((r) => r.method === method && path.test(r.path.split('?')[0]))
  /** Waits until the job is queued again after its `attempt`-th attempt failed, and returns its row. */
  const requeued = async (id: string, attempt: number, what: string) => {
    await until(async () => (await job(id)).status === 'queued' && (await job(id)).attempt_count === attempt, 30_000, what)
    return job(id)
  }
  /** How long after its failure a requeued job waits (run_after − the failure's updated_at), in ms. */
  const requeueDelay = (row: JobRow) => Date.parse(row.run_after!) - Date.parse(row.updated_at)
  /** The next server purchase answers 429 (Hetzner's rate limit) with this Retry-After. */
  const rateLimitNextPurchase = (retryAfterSeconds: number) =>
    double.fail('POST', /^\/servers$/, 429, 'rate_limit_exceeded', 'limit of 3600 requests per hour reached', 1, retryAfterSeconds)
  /** Lets the backoff pass: the requeued attempt becomes due now (what the clock would do after 1 minute). */
  const makeDue = (id: string) => h!.cp.services.db.execute({ sql: 'UPDATE jobs SET run_after = ? WHERE id = ?', args: [new Date(Date.now() - 1000).toISOString(), id] })
  const noToken = () => {
    expect(h!.cp.logLines.filter((l) => l.includes(double.token))).toEqual([])
  }

  it('create action ends in error: PROVIDER_ACTION_FAILED after one attempt, node unreachable with its server recorded, nothing else bought', async () => {
    double.options.actionOutcome = 'error'
    await start()
    const id = await post('fault-action')
    expect(await waitForJob(h!.cp, id, 30_000)).toMatchObject({ status: 'failed', error_code: 'PROVIDER_ACTION_FAILED', attempt_count: 1 })
    expect((await job(id)).error_message).toContain('server_create_failed')
    expect(await node('fault-action')).toMatchObject({ status: 'unreachable', provider_server_id: String(double.servers[0].id), public_ip: null })
    expect(double.servers).toHaveLength(1)
    noToken()
  })

  it('429 with Retry-After: PROVIDER_UNAVAILABLE, requeued no sooner than Retry-After; the next attempt buys exactly one server and the node becomes active', async () => {
    await start()
    rateLimitNextPurchase(30)
    const id = await post('fault-429')
    const first = await requeued(id, 1, 'requeue after the 429')
    expect(first.error_code).toBe('PROVIDER_UNAVAILABLE')
    expect(first.error_message).toContain('the provider asks to wait 30 s')
    // The job backoff (1 min after the first attempt) is longer than what the provider asked for: the backoff wins.
    expect(requeueDelay(first)).toBe(60_000)
    expect(await node('fault-429')).toMatchObject({ status: 'provisioning', provider_server_id: null })
    expect(double.servers).toHaveLength(0)

    await makeDue(id)
    expect(await waitForJob(h!.cp, id, 30_000)).toMatchObject({ status: 'succeeded', attempt_count: 2 })
    expect(await node('fault-429')).toMatchObject({ status: 'active', public_ip: '127.0.0.1', provider_server_id: String(double.servers[0].id) })
    expect(double.servers).toHaveLength(1)
    expect(calls('POST', /^\/ssh_keys$/)).toHaveLength(1)
    noToken()
  })

  it('429 whose Retry-After is longer than the backoff: the retry waits for the provider (10 min, not the 1 min backoff); an absurd wait is capped at 1 hour', async () => {
    await start()
    rateLimitNextPurchase(600)
    const id = await post('fault-429-long')
    const first = await requeued(id, 1, 'requeue after the 429')
    expect(first.error_message).toContain('the provider asks to wait 600 s')
    expect(requeueDelay(first)).toBe(600_000)
    expect(double.servers).toHaveLength(0)

    await makeDue(id)
    rateLimitNextPurchase(30 * 86_400)
    const capped = await requeued(id, 2, 'requeue after the second 429')
    expect(requeueDelay(capped)).toBe(3_600_000)
    expect(double.servers).toHaveLength(0)
    noToken()
  })

  it('server stays initializing past the action timeout: PROVIDER_NOT_READY and requeued with the server recorded; once running, the next attempt uses it (no second server)', async () => {
    double.options.actionPollsUntilDone = 1_000_000
    await start({ actionTimeoutMs: 600 })
    const id = await post('fault-slow')
    const first = await requeued(id, 1, 'requeue after the action timeout')
    expect(first.error_code).toBe('PROVIDER_NOT_READY')
    expect(first.error_message).toMatch(/still running after/)
    expect(double.servers[0].status).toBe('initializing')
    expect(await node('fault-slow')).toMatchObject({ status: 'provisioning', provider_server_id: String(double.servers[0].id), public_ip: null })

    double.servers[0].status = 'running'
    await makeDue(id)
    expect(await waitForJob(h!.cp, id, 30_000)).toMatchObject({ status: 'succeeded', attempt_count: 2 })
    expect(await node('fault-slow')).toMatchObject({ status: 'active', public_ip: '127.0.0.1' })
    expect(calls('POST', /^\/servers$/)).toHaveLength(1)
    expect(double.servers).toHaveLength(1)
  })

  it('token revoked at the provider between acceptance and start: PROVIDER_AUTH_FAILED after one attempt, nothing bought, the token redacted from the message', async () => {
    await start({}, {}, false)
    const id = await post('fault-revoked')
    const saved = double.token
    double.options.token = `revoked-${crypto.randomBytes(12).toString('hex')}`
    await h!.cp.scheduler!.start()
    expect(await waitForJob(h!.cp, id, 30_000)).toMatchObject({ status: 'failed', error_code: 'PROVIDER_AUTH_FAILED', attempt_count: 1 })
    expect(await node('fault-revoked')).toMatchObject({ status: 'unreachable', provider_server_id: null })
    expect(double.servers).toHaveLength(0)
    expect(double.sshKeys).toHaveLength(0)
    expect((await job(id)).error_message).toContain('401')
    expect((await job(id)).error_message).not.toContain(saved)
    noToken()
  })

  it('a provider error message that echoes the token reaches the job only redacted', async () => {
    await start()
    double.fail('POST', /^\/servers$/, 422, 'invalid_input', `request with Authorization: Bearer ${double.token} is invalid`)
    const id = await post('fault-echo')
    expect(await waitForJob(h!.cp, id, 30_000)).toMatchObject({ status: 'failed', error_code: 'PROVIDER_SERVER_CREATE_FAILED' })
    const { error_message: message } = await job(id)
    expect(message).toContain('Bearer [REDACTED]')
    expect(message).not.toContain(double.token)
    noToken()
  })

  it('re-posting the same name while its job runs answers the same job and buys nothing more', async () => {
    double.options.actionPollsUntilDone = 1_000_000
    await start()
    const id = await post('fault-twice')
    await until(() => calls('GET', /^\/actions\/\d+$/).length > 0, 30_000, 'the action being polled')
    expect((await job(id)).status).toBe('running')
    expect(await post('fault-twice')).toBe(id)
    const jobs = await row<{ n: number }>(h!.cp, "SELECT COUNT(*) AS n FROM jobs WHERE job_type = 'node_provision' AND node_id = ?", [(await node('fault-twice')).id])
    expect(jobs.n).toBe(1)
    double.options.actionPollsUntilDone = 0
    expect(await waitForJob(h!.cp, id, 30_000)).toMatchObject({ status: 'succeeded', attempt_count: 1 })
    expect(calls('POST', /^\/servers$/)).toHaveLength(1)
    expect(double.servers).toHaveLength(1)
  })

  it('re-posting after a failure adopts the server found by its label instead of buying a second one', async () => {
    // The create answer arrives after the job budget (and before the 15 s request timeout): the server exists at the
    // provider, its id was never recorded.
    await start({ requestTimeoutMs: 15_000 }, { PRESSLUFT_JOB_TIMEOUT_SECONDS: '8' })
    double.delay('POST', /^\/servers$/, 12_000)
    const first = await post('fault-lost')
    expect(await waitForJob(h!.cp, first, 30_000)).toMatchObject({ status: 'failed', error_code: 'JOB_TIMEOUT', attempt_count: 1 })
    expect(await node('fault-lost')).toMatchObject({ status: 'unreachable', provider_server_id: null })
    expect(double.servers).toHaveLength(1)
    const nodeId = (await node('fault-lost')).id
    expect(double.servers[0].labels).toEqual({ 'managed-by': 'pressluft', 'pressluft-node-id': nodeId })
    double.servers[0].status = 'running'

    const second = await post('fault-lost')
    expect(second).not.toBe(first)
    expect(await waitForJob(h!.cp, second, 30_000)).toMatchObject({ status: 'succeeded', attempt_count: 1 })
    expect(await node('fault-lost')).toMatchObject({ id: nodeId, status: 'active', public_ip: '127.0.0.1', provider_server_id: String(double.servers[0].id) })
    expect(calls('POST', /^\/servers$/)).toHaveLength(1)
    expect(double.servers).toHaveLength(1)
  })
})
