// Test helper: a control plane on a temporary libSQL file, driven in-process with app.request().
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { Writable } from 'node:stream'
import { loadConfig, type Config } from '../../runtime/config.js'
import { createLogger } from '../../runtime/logging.js'
import { bootstrap, type BootstrapOptions, type ControlPlane } from '../../runtime/bootstrap.js'
import { recordLogLine, rememberSecret } from './log-audit.js'

export const ADMIN_EMAIL = 'admin@example.test'
export const ADMIN_PASSWORD = 'correct horse battery staple'

export interface TestControlPlane extends ControlPlane {
  config: Config
  dir: string
  /** Every log line the control plane wrote, for redaction checks. */
  logLines: string[]
  /** Sends a request; `cookie` defaults to the admin session once login() ran. */
  request(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<Response>
  login(): Promise<string>
  close(): Promise<void>
}

export interface DataDirOptions {
  /** An existing data directory to open (the e2e run's shared control plane); default: a new temporary one. */
  dataDir?: string
  /** Keep the data directory on close (default: removed unless it was passed in). */
  keepDataDir?: boolean
}

export async function createTestControlPlane(env: Record<string, string> = {}, options: BootstrapOptions = {}, data: DataDirOptions = {}): Promise<TestControlPlane> {
  const dir = data.dataDir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'pressluft-test-'))
  const keep = data.keepDataDir ?? data.dataDir !== undefined
  const config = loadConfig({
    PRESSLUFT_DATA_DIR: dir,
    PRESSLUFT_ADMIN_EMAIL: ADMIN_EMAIL,
    PRESSLUFT_ADMIN_PASSWORD: ADMIN_PASSWORD,
    PRESSLUFT_LOG_LEVEL: 'debug',
    ...env,
  })
  const logLines: string[] = []
  const sink = new Writable({
    write(chunk, _enc, cb) {
      for (const line of String(chunk).split('\n').filter(Boolean)) { logLines.push(line); recordLogLine(line) }
      cb()
    },
  })
  rememberSecret(ADMIN_PASSWORD)
  const logger = createLogger(config.logLevel, sink)
  // Cheap scrypt parameters keep the suite fast; tests/unit/passwords.test.ts covers the production parameters.
  const plane = await bootstrap(config, logger, { scryptParams: { logN: 10, r: 8, p: 1 }, ...options })
  let cookie: string | undefined

  const request = async (method: string, urlPath: string, body?: unknown, headers: Record<string, string> = {}) => {
    const init: RequestInit = { method, headers: { ...(cookie ? { cookie } : {}), ...headers } }
    if (body !== undefined) {
      init.body = typeof body === 'string' ? body : JSON.stringify(body)
      ;(init.headers as Record<string, string>)['content-type'] ??= 'application/json'
    }
    return plane.app.request(urlPath, init)
  }

  return {
    ...plane, config, dir, logLines, request,
    async login() {
      const res = await request('POST', '/api/login', { email: ADMIN_EMAIL, password: ADMIN_PASSWORD })
      if (res.status !== 200) throw new Error(`login failed: ${res.status} ${await res.text()}`)
      cookie = res.headers.get('set-cookie')!.split(';')[0]
      rememberSecret(cookie.split('=')[1])
      return cookie
    },
    async close() {
      await plane.scheduler?.stop(5_000)
      plane.services.db.close()
      if (!keep) fs.rmSync(dir, { recursive: true, force: true })
    },
  }
}
