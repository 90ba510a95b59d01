// Local HTTP double of the Hetzner Cloud API v1 (ssh_keys, servers, actions) with its documented shapes and error bodies.
import http from 'node:http'
import crypto from 'node:crypto'
import type { AddressInfo } from 'node:net'

export interface DoubleSshKey { id: number; name: string; fingerprint: string; public_key: string; labels: Record<string, string>; created: string }
export interface DoubleServer {
  id: number; name: string; status: 'initializing' | 'starting' | 'running' | 'off'; created: string; labels: Record<string, string>
  public_net: { ipv4: { ip: string; blocked: boolean; dns_ptr: string } | null; ipv6: null }
  server_type: { name: string }; datacenter: { location: { name: string } }; image: { name: string } | null
}
export interface DoubleAction { id: number; command: string; status: 'running' | 'success' | 'error'; progress: number; started: string; finished: string | null; error: { code: string; message: string } | null; resources: { id: number; type: string }[] }

export interface HetznerDoubleOptions {
  token?: string
  /** Public IPv4 of created servers. */
  serverIp?: string
  /** GET /actions/{id} answers `running` this many times before finishing. */
  actionPollsUntilDone?: number
  /** How the create_server action ends. */
  actionOutcome?: 'success' | 'error'
}

interface InjectedFault { method: string; path: RegExp; status: number; code: string; message: string; times: number }

export interface HetznerDouble {
  url: string
  token: string
  sshKeys: DoubleSshKey[]
  servers: DoubleServer[]
  actions: DoubleAction[]
  requests: { method: string; path: string; body: unknown }[]
  options: Required<HetznerDoubleOptions>
  /** Runs before a matching request is handled (e.g. a concurrent registration between list and create). */
  before(method: string, path: RegExp, fn: () => void): void
  /** The next `times` matching requests answer with this error body. */
  fail(method: string, path: RegExp, status: number, code: string, message?: string, times?: number): void
  addServer(fields: Partial<DoubleServer> & { name: string }): DoubleServer
  close(): Promise<void>
}

/** Hetzner's SSH key fingerprint: MD5 of the key blob, colon-separated hex. */
export function md5Fingerprint(publicKey: string): string {
  const blob = Buffer.from(publicKey.trim().split(/\s+/)[1] ?? '', 'base64')
  return crypto.createHash('md5').update(blob).digest('hex').match(/../g)!.join(':')
}

export async function startHetznerDouble(options: HetznerDoubleOptions = {}): Promise<HetznerDouble> {
  const opts: Required<HetznerDoubleOptions> = { token: 'test-hetzner-token', serverIp: '203.0.113.50', actionPollsUntilDone: 2, actionOutcome: 'success', ...options }
  const state = { sshKeys: [] as DoubleSshKey[], servers: [] as DoubleServer[], actions: [] as DoubleAction[], requests: [] as HetznerDouble['requests'] }
  const faults: InjectedFault[] = []
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
      const send = (status: number, payload: unknown) => {
        res.writeHead(status, { 'content-type': 'application/json' })
        res.end(JSON.stringify(payload))
      }
      const error = (status: number, code: string, message: string, details: Record<string, unknown> = {}) => send(status, { error: { code, message, details } })

      for (const hook of hooks.splice(0).filter((h) => { const hit = h.method === method && h.path.test(url.pathname); if (!hit) hooks.push(h); return hit })) hook.fn()
      if (req.headers.authorization !== `Bearer ${opts.token}`) return error(401, 'unauthorized', 'unable to authenticate')
      const fault = faults.find((f) => f.method === method && f.path.test(url.pathname) && f.times > 0)
      if (fault) { fault.times--; return error(fault.status, fault.code, fault.message) }

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
          server_type: { name: String(body.server_type) }, datacenter: { location: { name: String(body.location ?? 'fsn1') } }, image: { name: String(body.image) } })
        const action: DoubleAction = { id: nextId++, command: 'create_server', status: 'running', progress: 0, started: now(), finished: null, error: null, resources: [{ id: created.id, type: 'server' }] }
        state.actions.push(action)
        return send(201, { server: created, action, next_actions: [], root_password: null })
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
        if (action.status === 'running' && seen > opts.actionPollsUntilDone) {
          action.status = opts.actionOutcome
          action.progress = 100
          action.finished = now()
          if (opts.actionOutcome === 'error') action.error = { code: 'server_create_failed', message: 'could not create the server' }
          const target = state.servers.find((s) => action.resources.some((r) => r.id === s.id))
          if (target && opts.actionOutcome === 'success') target.status = 'running'
        }
        return send(200, { action })
      }
      return error(404, 'not_found', `no route ${method} ${url.pathname}`)
    })
  })

  function addServer(fields: Partial<DoubleServer> & { name: string }): DoubleServer {
    const created: DoubleServer = {
      id: nextId++, status: 'running', created: now(), labels: {}, server_type: { name: 'cx22' }, datacenter: { location: { name: 'fsn1' } }, image: { name: 'debian-12' },
      public_net: { ipv4: { ip: opts.serverIp, blocked: false, dns_ptr: 'static.example' }, ipv6: null },
      ...fields,
    }
    state.servers.push(created)
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
    fail(method, path, status, code, message = code, times = 1) { faults.push({ method, path, status, code, message, times }) },
    addServer,
    close: () => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()) }),
  }
}
