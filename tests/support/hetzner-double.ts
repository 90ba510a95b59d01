// Local HTTP double of the Hetzner Cloud API v1 (ssh_keys, servers, actions) with its documented shapes and error bodies.
// With `machines` it stands behind real machines (lab nodes, tests/support/hetzner-lab.ts): a created server boots one.
import http from 'node:http'
import crypto from 'node:crypto'
import type { AddressInfo } from 'node:net'
import { rememberSecret } from './log-audit.js'

export interface DoubleSshKey { id: number; name: string; fingerprint: string; public_key: string; labels: Record<string, string>; created: string }
export interface DoubleServer {
  id: number; name: string; status: 'initializing' | 'starting' | 'running' | 'off'; created: string; labels: Record<string, string>
  public_net: { ipv4: { ip: string; blocked: boolean; dns_ptr: string } | null; ipv6: null }
  server_type: { name: string }; datacenter: { location: { name: string } }; image: { name: string } | null
}
export interface DoubleAction { id: number; command: string; status: 'running' | 'success' | 'error'; progress: number; started: string; finished: string | null; error: { code: string; message: string } | null; resources: { id: number; type: string }[] }

/** What boots behind a created server: a lab node in the e2e suite. */
export interface ServerMachines {
  /**
   * Boots a machine named `name` whose root accepts exactly `publicKeys` (what cloud-init does with the server's ssh_keys);
   * calls `onStarting(ip)` once it has an address and is booting; resolves when its sshd answers.
   */
  start(name: string, publicKeys: string[], onStarting: (ip: string) => void): Promise<void>
  stop(name: string): Promise<void>
}

export interface HetznerDoubleOptions {
  token?: string
  /** Public IPv4 of created servers. */
  serverIp?: string
  /** GET /actions/{id} answers `running` this many times before finishing. */
  actionPollsUntilDone?: number
  /** How the create_server action ends. */
  actionOutcome?: 'success' | 'error'
  /** Real machines behind the servers; without them a created server is `running` at `serverIp` once its action succeeds. */
  machines?: ServerMachines | null
}

interface InjectedFault { method: string; path: RegExp; status: number; code: string; message: string; times: number; retryAfter: number }

export interface HetznerDouble {
  url: string
  token: string
  sshKeys: DoubleSshKey[]
  servers: DoubleServer[]
  actions: DoubleAction[]
  requests: { method: string; path: string; body: unknown }[]
  options: Required<HetznerDoubleOptions>
  /** Every status a server went through, in order (initializing → starting → running with machines). */
  statusLog: { server_id: number; name: string; status: DoubleServer['status']; at: number }[]
  /** Runs before a matching request is handled (e.g. a concurrent registration between list and create). */
  before(method: string, path: RegExp, fn: () => void): void
  /** The next `times` matching requests answer with this error body (a 429 carries Retry-After: `retryAfter` seconds). */
  fail(method: string, path: RegExp, status: number, code: string, message?: string, times?: number, retryAfter?: number): void
  /** The next matching request is carried out but its answer is held back `ms` (a response lost in a slow network). */
  delay(method: string, path: RegExp, ms: number): void
  addServer(fields: Partial<DoubleServer> & { name: string }): DoubleServer
  close(): Promise<void>
}

/** Hetzner's SSH key fingerprint: MD5 of the key blob, colon-separated hex. */
export function md5Fingerprint(publicKey: string): string {
  const blob = Buffer.from(publicKey.trim().split(/\s+/)[1] ?? '', 'base64')
  return crypto.createHash('md5').update(blob).digest('hex').match(/../g)!.join(':')
}

export async function startHetznerDouble(options: HetznerDoubleOptions = {}): Promise<HetznerDouble> {
  const opts: Required<HetznerDoubleOptions> = { token: 'test-hetzner-token', serverIp: '203.0.113.50', actionPollsUntilDone: 2, actionOutcome: 'success', machines: null, ...options }
  // Every test using the double checks the token never reaches a log line (tests/support/global-log-check.ts).
  rememberSecret(opts.token)
  const state = { sshKeys: [] as DoubleSshKey[], servers: [] as DoubleServer[], actions: [] as DoubleAction[], requests: [] as HetznerDouble['requests'], statusLog: [] as HetznerDouble['statusLog'] }
  const faults: InjectedFault[] = []
  const delays: { method: string; path: RegExp; ms: number }[] = []
  const boots = new Map<number, Promise<void>>()
  const hooks: { method: string; path: RegExp; fn: () => void }[] = []
  const polls = new Map<number, number>()
  let nextId = 1000
  const now = () => new Date().toISOString()
  const meta = (n: number) => ({ pagination: { page: 1, per_page: 25, previous_page: null, next_page: null, last_page: 1, total_entries: n } })

  const server = http.createServer((req, res) => {
    let raw = ''
    req.on('data', (chunk) => { raw += chunk })
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://double')
      const method = req.method ?? 'GET'
      let body: Record<string, unknown> = {}
      try { body = raw ? JSON.parse(raw) as Record<string, unknown> : {} } catch { /* answered below */ }
      state.requests.push({ method, path: `${url.pathname}${url.search}`, body })
      const held = delays.findIndex((d) => d.method === method && d.path.test(url.pathname))
      const holdMs = held >= 0 ? delays.splice(held, 1)[0].ms : 0
      const send = (status: number, payload: unknown, headers: Record<string, string> = {}) => {
        const answer = () => {
          if (res.destroyed) return
          res.writeHead(status, { 'content-type': 'application/json', ...headers })
          res.end(JSON.stringify(payload))
        }
        if (holdMs > 0) setTimeout(answer, holdMs).unref()
        else answer()
      }
      const error = (status: number, code: string, message: string, details: Record<string, unknown> = {}, headers: Record<string, string> = {}) =>
        send(status, { error: { code, message, details } }, headers)

      for (const hook of hooks.splice(0).filter((h) => { const hit = h.method === method && h.path.test(url.pathname); if (!hit) hooks.push(h); return hit })) hook.fn()
      if (req.headers.authorization !== `Bearer ${opts.token}`) return error(401, 'unauthorized', 'unable to authenticate')
      const fault = faults.find((f) => f.method === method && f.path.test(url.pathname) && f.times > 0)
      if (fault) {
        fault.times--
        // Hetzner's rate limit headers; Retry-After as HTTP defines it for 429.
        const limit: Record<string, string> = fault.status === 429
          ? { 'retry-after': String(fault.retryAfter), 'ratelimit-limit': '3600', 'ratelimit-remaining': '0', 'ratelimit-reset': String(Math.floor(Date.now() / 1000) + fault.retryAfter) }
          : {}
        return error(fault.status, fault.code, fault.message, {}, limit)
      }

      if (method === 'GET' && url.pathname === '/ssh_keys') {
        const fp = url.searchParams.get('fingerprint')
        const keys = state.sshKeys.filter((k) => !fp || k.fingerprint === fp)
        return send(200, { ssh_keys: keys, meta: meta(keys.length) })
      }
      if (method === 'POST' && url.pathname === '/ssh_keys') {
        const publicKey = String(body.public_key ?? '')
        if (!body.name || !/^ssh-(ed25519|rsa) /.test(publicKey)) return error(400, 'invalid_input', 'invalid input in fields name, public_key')
        const fingerprint = md5Fingerprint(publicKey)
        if (state.sshKeys.some((k) => k.fingerprint === fingerprint || k.name === body.name)) return error(409, 'uniqueness_error', 'SSH key with the same fingerprint already exists')
        const key: DoubleSshKey = { id: nextId++, name: String(body.name), fingerprint, public_key: publicKey, labels: (body.labels as Record<string, string>) ?? {}, created: now() }
        state.sshKeys.push(key)
        return send(201, { ssh_key: key })
      }
      if (method === 'GET' && url.pathname === '/servers') {
        const name = url.searchParams.get('name')
        const servers = state.servers.filter((s) => !name || s.name === name)
        return send(200, { servers, meta: meta(servers.length) })
      }
      if (method === 'POST' && url.pathname === '/servers') {
        const keys = (body.ssh_keys as unknown[] | undefined) ?? []
        if (!body.name || !body.server_type || !body.image) return error(400, 'invalid_input', 'invalid input in fields name, server_type, image')
        if (keys.some((k) => !state.sshKeys.some((s) => s.id === k || s.name === k))) return error(400, 'invalid_input', 'ssh key not found')
        if (state.servers.some((s) => s.name === body.name)) return error(409, 'uniqueness_error', 'server name is already used')
        const created = addServer({ name: String(body.name), labels: (body.labels as Record<string, string>) ?? {}, status: 'initializing',
          server_type: { name: String(body.server_type) }, datacenter: { location: { name: String(body.location ?? 'fsn1') } }, image: { name: String(body.image) },
          // A machine's address exists once it boots (Hetzner knows it at creation; the lab allocates it at start).
          ...(opts.machines ? { public_net: { ipv4: null, ipv6: null } } : {}) })
        const action: DoubleAction = { id: nextId++, command: 'create_server', status: 'running', progress: 0, started: now(), finished: null, error: null, resources: [{ id: created.id, type: 'server' }] }
        state.actions.push(action)
        if (opts.machines && opts.actionOutcome === 'success') {
          const publicKeys = keys.map((k) => state.sshKeys.find((s) => s.id === k || s.name === k)!.public_key)
          boots.set(created.id, boot(opts.machines, created, action, publicKeys))
        }
        send(201, { server: created, action, next_actions: [], root_password: null })
        return
      }
      const deleteMatch = /^\/servers\/(\d+)$/.exec(url.pathname)
      if (method === 'DELETE' && deleteMatch) {
        const index = state.servers.findIndex((s) => s.id === Number(deleteMatch[1]))
        if (index < 0) return error(404, 'not_found', 'server not found')
        const [gone] = state.servers.splice(index, 1)
        const action: DoubleAction = { id: nextId++, command: 'delete_server', status: 'running', progress: 0, started: now(), finished: null, error: null, resources: [{ id: gone.id, type: 'server' }] }
        state.actions.push(action)
        const stopped = (boots.get(gone.id) ?? Promise.resolve()).then(() => opts.machines?.stop(gone.name))
        boots.delete(gone.id)
        stopped.then(
          () => Object.assign(action, { status: 'success', progress: 100, finished: now() }),
          (err: unknown) => Object.assign(action, { status: 'error', finished: now(), error: { code: 'server_delete_failed', message: String(err) } }),
        )
        return send(200, { action })
      }
      const serverMatch = /^\/servers\/(\d+)$/.exec(url.pathname)
      if (method === 'GET' && serverMatch) {
        const found = state.servers.find((s) => s.id === Number(serverMatch[1]))
        return found ? send(200, { server: found }) : error(404, 'not_found', 'server not found')
      }
      const actionMatch = /^\/actions\/(\d+)$/.exec(url.pathname)
      if (method === 'GET' && actionMatch) {
        const action = state.actions.find((a) => a.id === Number(actionMatch[1]))
        if (!action) return error(404, 'not_found', 'action not found')
        const seen = (polls.get(action.id) ?? 0) + 1
        polls.set(action.id, seen)
        // With machines, create_server finishes when the machine does (boot below), not after a number of polls.
        const booting = opts.machines && action.command === 'create_server' && opts.actionOutcome === 'success'
        if (action.status === 'running' && seen > opts.actionPollsUntilDone && !booting) {
          action.status = opts.actionOutcome
          action.progress = 100
          action.finished = now()
          if (opts.actionOutcome === 'error') action.error = { code: 'server_create_failed', message: 'could not create the server' }
          const target = state.servers.find((s) => action.resources.some((r) => r.id === s.id))
          if (target && opts.actionOutcome === 'success') setStatus(target, 'running')
        }
        return send(200, { action })
      }
      return error(404, 'not_found', `no route ${method} ${url.pathname}`)
    })
  })

  function setStatus(target: DoubleServer, status: DoubleServer['status']): void {
    target.status = status
    state.statusLog.push({ server_id: target.id, name: target.name, status, at: Date.now() })
  }

  /** initializing (disk and keys prepared) → starting (booting with its address) → running (sshd answers). */
  async function boot(machines: ServerMachines, target: DoubleServer, action: DoubleAction, publicKeys: string[]): Promise<void> {
    try {
      await machines.start(target.name, publicKeys, (ip) => {
        target.public_net = { ipv4: { ip, blocked: false, dns_ptr: `static.${ip.split('.').reverse().join('.')}.clients.your-server.de` }, ipv6: null }
        setStatus(target, 'starting')
        action.progress = 50
      })
      setStatus(target, 'running')
      Object.assign(action, { status: 'success', progress: 100, finished: now() })
    } catch (err) {
      setStatus(target, 'off')
      Object.assign(action, { status: 'error', finished: now(), error: { code: 'server_create_failed', message: `the machine did not boot: ${err instanceof Error ? err.message : String(err)}` } })
    }
  }

  function addServer(fields: Partial<DoubleServer> & { name: string }): DoubleServer {
    const created: DoubleServer = {
      id: nextId++, status: 'running', created: now(), labels: {}, server_type: { name: 'cx22' }, datacenter: { location: { name: 'fsn1' } }, image: { name: 'debian-12' },
      public_net: { ipv4: { ip: opts.serverIp, blocked: false, dns_ptr: 'static.example' }, ipv6: null },
      ...fields,
    }
    state.servers.push(created)
    state.statusLog.push({ server_id: created.id, name: created.name, status: created.status, at: Date.now() })
    return created
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    token: opts.token,
    ...state,
    options: opts,
    before(method, path, fn) { hooks.push({ method, path, fn }) },
    fail(method, path, status, code, message = code, times = 1, retryAfter = 30) { faults.push({ method, path, status, code, message, times, retryAfter }) },
    delay(method, path, ms) { delays.push({ method, path, ms }) },
    addServer,
    async close() {
      // Servers left behind would be machines left running: stop them as if the project were deleted.
      const left = state.servers.filter((s) => boots.has(s.id))
      await Promise.all(left.map(async (s) => { await boots.get(s.id); await opts.machines?.stop(s.name).catch(() => undefined) }))
      await new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()) })
    },
  }
}
