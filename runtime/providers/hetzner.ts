// Hetzner Cloud API v1 acquisition for node_provision mode acquire (docs/architecture.md "Provider acquisition"), step by step.
import crypto from 'node:crypto'
import fs from 'node:fs'
import net from 'node:net'
import type { Db } from '../store/db.js'
import type { Logger } from '../logging.js'
import type { JobErrorCode } from '../jobs/outcomes.js'
import type { NodeContext } from '../store/job-context.js'
import { readNode, recordAcquiredAddress, recordProviderServer } from '../store/job-context.js'
import { nowIso } from '../clock.js'

export class ProviderError extends Error {
  /** `retryAfterMs`: how long the provider asked us to wait before the next request (a rate limit), if it said. */
  constructor(readonly code: JobErrorCode, message: string, readonly retryAfterMs?: number) {
    super(message)
  }
}

/**
 * The wait a 429 asks for, in ms: `Retry-After` as HTTP defines it (delay-seconds or an HTTP-date), else Hetzner's
 * `RateLimit-Reset` (the Unix time at which the budget refills); undefined when neither is usable.
 */
export function rateLimitWaitMs(headers: Headers, now = Date.now()): number | undefined {
  const retryAfter = headers.get('retry-after')?.trim()
  if (retryAfter) {
    if (/^\d+$/.test(retryAfter)) return Number(retryAfter) * 1000
    // Every HTTP-date form starts with the day's name; Date.parse alone would also take '-5' or '2026'.
    const at = /^[A-Za-z]{3}/.test(retryAfter) ? Date.parse(retryAfter) : Number.NaN
    if (!Number.isNaN(at)) return Math.max(0, at - now)
  }
  const reset = headers.get('ratelimit-reset')?.trim()
  if (reset && /^\d+$/.test(reset)) return Math.max(0, Number(reset) * 1000 - now)
  return undefined
}

export interface ProviderTiming {
  actionPollMs: number
  actionTimeoutMs: number
  sshPollMs: number
  sshWaitMs: number
  /** TCP port probed before provisioning (22 on real servers). */
  sshPort: number
  requestTimeoutMs: number
}

export const DEFAULT_TIMING: ProviderTiming = {
  actionPollMs: 2000, actionTimeoutMs: 5 * 60_000, sshPollMs: 5000, sshWaitMs: 2 * 60_000, sshPort: 22, requestTimeoutMs: 15_000,
}

export interface AcquireInput {
  db: Db
  node: NodeContext
  spec: { server_type: string; location: string; image: string }
  baseUrl: string
  token: string
  publicKey: string
  signal: AbortSignal
  log: Logger
  timing?: Partial<ProviderTiming>
  /** The control plane's known_hosts (host keys pinned on first use). */
  knownHostsFile?: string
}

interface ApiResponse { status: number; body: Record<string, unknown> }

/** OpenSSH public key → MD5 colon-hex fingerprint (Hetzner's ssh_keys filter) and SHA-256 hex. */
export function keyFingerprints(publicKey: string): { md5: string; sha256Hex: string } {
  const blob = Buffer.from(publicKey.trim().split(/\s+/)[1] ?? '', 'base64')
  const md5 = crypto.createHash('md5').update(blob).digest('hex').match(/../g)!.join(':')
  return { md5, sha256Hex: crypto.createHash('sha256').update(blob).digest('hex') }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) { reject(signal.reason); return }
    const timer = setTimeout(() => { signal.removeEventListener('abort', onAbort); resolve() }, ms)
    const onAbort = () => { clearTimeout(timer); reject(signal.reason) }
    signal.addEventListener('abort', onAbort, { once: true })
  })
}

function tcpOpen(host: string, port: number, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port })
    const done = (open: boolean) => { socket.destroy(); resolve(open) }
    socket.setTimeout(timeoutMs, () => done(false))
    socket.once('connect', () => done(true))
    socket.once('error', () => done(false))
  })
}

function apiErrorText(body: Record<string, unknown>): string {
  const error = body.error as { code?: string; message?: string } | undefined
  return error ? `${error.code ?? 'error'}: ${error.message ?? ''}` : 'no error body'
}

export class HetznerClient {
  constructor(private readonly baseUrl: string, private readonly token: string, private readonly signal: AbortSignal, private readonly requestTimeoutMs: number) {}

  async request(method: string, path: string, body?: unknown): Promise<ApiResponse> {
    let res: Response
    try {
      res = await fetch(`${this.baseUrl.replace(/\/$/, '')}${path}`, {
        method,
        headers: { authorization: `Bearer ${this.token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.any([this.signal, AbortSignal.timeout(this.requestTimeoutMs)]),
      })
    } catch (error) {
      if (this.signal.aborted) throw this.signal.reason
      throw new ProviderError('PROVIDER_UNAVAILABLE', `Hetzner API ${method} ${path} failed: ${error instanceof Error ? error.message : String(error)}`)
    }
    const text = await res.text()
    let parsed: Record<string, unknown> = {}
    try { parsed = text ? JSON.parse(text) as Record<string, unknown> : {} } catch { /* non-JSON error page */ }
    if (res.status === 401 || res.status === 403) throw new ProviderError('PROVIDER_AUTH_FAILED', `Hetzner API rejected the token (${res.status} ${apiErrorText(parsed)})`)
    if (res.status === 429) {
      // The next attempt comes after the job backoff or after the provider's wait, whichever is later (job-queue.ts).
      const waitMs = rateLimitWaitMs(res.headers)
      throw new ProviderError('PROVIDER_UNAVAILABLE', `Hetzner API rate limit: ${method} ${path} answered 429 (${apiErrorText(parsed)})${waitMs === undefined ? '' : `; the provider asks to wait ${Math.ceil(waitMs / 1000)} s`}`, waitMs)
    }
    if (res.status >= 500) throw new ProviderError('PROVIDER_UNAVAILABLE', `Hetzner API ${method} ${path} answered ${res.status} (${apiErrorText(parsed)})`)
    return { status: res.status, body: parsed }
  }
}

/** Step 1: the control-plane key registered once, found by fingerprint; a concurrent registration is re-listed. */
async function ensureSshKey(api: HetznerClient, publicKey: string): Promise<number> {
  const { md5, sha256Hex } = keyFingerprints(publicKey)
  const find = async () => {
    const res = await api.request('GET', `/ssh_keys?fingerprint=${encodeURIComponent(md5)}`)
    if (res.status !== 200) throw new ProviderError('PROVIDER_SSH_KEY_REGISTRATION_FAILED', `listing SSH keys answered ${res.status} (${apiErrorText(res.body)})`)
    const keys = (res.body.ssh_keys as { id: number; fingerprint: string }[] | undefined) ?? []
    return keys.find((k) => k.fingerprint === md5)?.id
  }
  const existing = await find()
  if (existing !== undefined) return existing
  const res = await api.request('POST', '/ssh_keys', { name: `pressluft-${sha256Hex.slice(0, 12)}`, public_key: publicKey, labels: { 'managed-by': 'pressluft' } })
  if (res.status === 201) return (res.body.ssh_key as { id: number }).id
  if (res.status === 409 && (res.body.error as { code?: string } | undefined)?.code === 'uniqueness_error') {
    const again = await find()
    if (again !== undefined) return again
  }
  throw new ProviderError('PROVIDER_SSH_KEY_REGISTRATION_FAILED', `registering the control-plane SSH key answered ${res.status} (${apiErrorText(res.body)}); no password fallback`)
}

interface Server { id: number; name: string; status: string; labels?: Record<string, string>; public_net?: { ipv4?: { ip?: string } | null } }

/** Step 2: adopt our labelled server or create one; its id is persisted at once (own transaction). */
async function ensureServer(api: HetznerClient, input: AcquireInput, keyId: number): Promise<{ serverId: string; actionId: number | null }> {
  const { node, db } = input
  const list = await api.request('GET', `/servers?name=${encodeURIComponent(node.name)}`)
  if (list.status !== 200) throw new ProviderError('PROVIDER_SERVER_CREATE_FAILED', `listing servers answered ${list.status} (${apiErrorText(list.body)})`)
  const servers = (list.body.servers as Server[] | undefined) ?? []
  const ours = servers.find((s) => s.labels?.['pressluft-node-id'] === node.id)
  if (ours) {
    await recordProviderServer(db, node.id, String(ours.id), nowIso())
    return { serverId: String(ours.id), actionId: null }
  }
  if (servers.some((s) => s.name === node.name)) {
    throw new ProviderError('PROVIDER_SERVER_CREATE_FAILED', `a server named ${node.name} exists in the Hetzner project but was not created for this node`)
  }
  const res = await api.request('POST', '/servers', {
    name: node.name, server_type: input.spec.server_type, location: input.spec.location, image: input.spec.image,
    ssh_keys: [keyId], start_after_create: true, labels: { 'managed-by': 'pressluft', 'pressluft-node-id': node.id },
  })
  if (res.status !== 201) throw new ProviderError('PROVIDER_SERVER_CREATE_FAILED', `creating the server answered ${res.status} (${apiErrorText(res.body)})`)
  const server = res.body.server as Server
  await recordProviderServer(db, node.id, String(server.id), nowIso())
  return { serverId: String(server.id), actionId: (res.body.action as { id: number } | undefined)?.id ?? null }
}

/** Whether a known_hosts line (plain or hashed `|1|salt|hmac`) names `host`. */
function namesHost(line: string, host: string): boolean {
  const field = line.trim().split(/\s+/)[0] ?? ''
  if (field.startsWith('|1|')) {
    const [, , salt, hash] = field.split('|')
    if (!salt || !hash) return false
    return crypto.createHmac('sha1', Buffer.from(salt, 'base64')).update(host).digest('base64') === hash
  }
  return field.split(',').includes(host)
}

/**
 * Providers hand the addresses of deleted servers to new ones. When a node gets an address it did not have, a key pinned
 * for that address belongs to an earlier server there, and would make the first connection fail as a changed host key;
 * it is dropped so the new server's key is pinned on first use. A node keeping its address keeps its pin.
 */
export function forgetHostKeys(knownHostsFile: string, ip: string): number {
  let text: string
  try { text = fs.readFileSync(knownHostsFile, 'utf8') } catch { return 0 }
  const lines = text.split('\n')
  const kept = lines.filter((line) => !namesHost(line, ip))
  if (kept.length === lines.length) return 0
  const temp = `${knownHostsFile}.${process.pid}.tmp`
  fs.writeFileSync(temp, kept.join('\n'), { mode: 0o600 })
  fs.renameSync(temp, knownHostsFile)
  return lines.length - kept.length
}

/** Steps 1-5; afterwards node-provision.yml runs as for a registered node. */
export async function acquireHetznerServer(input: AcquireInput): Promise<NodeContext> {
  const timing = { ...DEFAULT_TIMING, ...input.timing }
  const api = new HetznerClient(input.baseUrl, input.token, input.signal, timing.requestTimeoutMs)
  const log = input.log.child({ provider: 'hetzner' })
  const keyId = await ensureSshKey(api, input.publicKey)
  let serverId = input.node.provider_server_id
  let actionId: number | null = null
  if (!serverId) ({ serverId, actionId } = await ensureServer(api, input, keyId))
  log.info({ server_id: serverId, action_id: actionId }, 'provider server recorded')

  if (actionId !== null) {
    const until = Date.now() + timing.actionTimeoutMs
    for (;;) {
      const res = await api.request('GET', `/actions/${actionId}`)
      const action = res.body.action as { status?: string; error?: { code?: string; message?: string } | null } | undefined
      if (res.status === 200 && action?.status === 'success') break
      if (res.status === 200 && action?.status === 'error') throw new ProviderError('PROVIDER_ACTION_FAILED', `server action ${actionId} failed: ${action.error?.code ?? ''} ${action.error?.message ?? ''}`.trim())
      if (Date.now() >= until) throw new ProviderError('PROVIDER_NOT_READY', `server action ${actionId} still running after ${Math.round(timing.actionTimeoutMs / 1000)} s`)
      await sleep(timing.actionPollMs, input.signal)
    }
  }

  const res = await api.request('GET', `/servers/${serverId}`)
  const server = res.body.server as Server | undefined
  const ip = server?.public_net?.ipv4?.ip
  if (res.status !== 200 || server?.status !== 'running' || !ip) {
    throw new ProviderError('PROVIDER_NOT_READY', `server ${serverId} is not running with a public IPv4 yet (status ${server?.status ?? res.status})`)
  }
  if (input.knownHostsFile && input.node.public_ip !== ip) {
    const dropped = forgetHostKeys(input.knownHostsFile, ip)
    if (dropped > 0) log.info({ server_id: serverId, ip, dropped }, 'dropped host keys pinned for an earlier server at this address')
  }
  await recordAcquiredAddress(input.db, input.node.id, ip, nowIso())

  const until = Date.now() + timing.sshWaitMs
  while (!(await tcpOpen(ip, timing.sshPort, Math.min(5000, timing.sshPollMs)))) {
    if (Date.now() >= until) throw new ProviderError('PROVIDER_NOT_READY', `SSH on ${ip}:${timing.sshPort} did not open within ${Math.round(timing.sshWaitMs / 1000)} s`)
    await sleep(timing.sshPollMs, input.signal)
  }
  log.info({ server_id: serverId, ip }, 'provider server reachable over SSH')
  const node = await readNode(input.db, input.node.id)
  if (!node) throw new Error(`node ${input.node.id} disappeared during acquisition`)
  return node
}
