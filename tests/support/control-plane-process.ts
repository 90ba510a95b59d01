// Test helper: the control plane as its own OS process (`node --import tsx runtime/main.ts`), for tests that kill it.
import fs from 'node:fs'
import net from 'node:net'
import path from 'node:path'
import { execa, type ResultPromise } from 'execa'
import { ADMIN_EMAIL, ADMIN_PASSWORD } from './control-plane.js'
import { recordLogLine, rememberSecret } from './log-audit.js'

const repoRoot = path.resolve(import.meta.dirname, '../..')

export interface ControlPlaneProcess {
  pid: number
  url: string
  /** Every stdout line (pino JSON) of this process. */
  logLines: string[]
  request(method: string, urlPath: string, body?: unknown): Promise<Response>
  login(): Promise<void>
  /** SIGKILL, as the OOM killer would: no shutdown code runs. */
  killHard(): Promise<void>
  /** SIGTERM and wait for the process to exit. */
  stop(): Promise<void>
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer()
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo
      server.close(() => resolve(port))
    })
    server.on('error', reject)
  })
}

export async function startControlPlaneProcess(dataDir: string, env: Record<string, string> = {}): Promise<ControlPlaneProcess> {
  // The control plane creates the data directory itself (0700, runtime/store/private-data.ts); only its parent must exist.
  fs.mkdirSync(path.dirname(dataDir), { recursive: true })
  const port = await freePort()
  const url = `http://127.0.0.1:${port}`
  rememberSecret(ADMIN_PASSWORD)
  const child: ResultPromise = execa(process.execPath, ['--import', 'tsx', 'runtime/main.ts'], {
    cwd: repoRoot, reject: false, buffer: false, stdin: 'ignore',
    env: {
      PRESSLUFT_DATA_DIR: dataDir, PRESSLUFT_LISTEN_ADDR: `127.0.0.1:${port}`, PRESSLUFT_ADMIN_EMAIL: ADMIN_EMAIL,
      PRESSLUFT_ADMIN_PASSWORD: ADMIN_PASSWORD, PRESSLUFT_LOG_LEVEL: 'debug', ...env,
    },
  })
  const logLines: string[] = []
  let pending = ''
  child.stdout?.on('data', (chunk: Buffer) => {
    pending += chunk.toString()
    const lines = pending.split('\n')
    pending = lines.pop() ?? ''
    for (const line of lines.filter(Boolean)) { logLines.push(line); recordLogLine(line) }
  })
  child.stderr?.on('data', (chunk: Buffer) => { recordLogLine(chunk.toString()) })
  const exited = child.then(() => undefined)
  let cookie = ''

  const request = (method: string, urlPath: string, body?: unknown) => fetch(`${url}${urlPath}`, {
    method, headers: { ...(cookie ? { cookie } : {}), ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    body: body !== undefined ? JSON.stringify(body) : undefined,
  })

  const deadline = Date.now() + 60_000
  for (;;) {
    if (child.exitCode !== null) throw new Error(`control plane exited with ${child.exitCode} during start-up`)
    const ok = await fetch(`${url}/api/openapi.json`).then((r) => r.ok, () => false)
    if (ok) break
    if (Date.now() > deadline) throw new Error('control plane did not answer within 60 s')
    await new Promise((r) => setTimeout(r, 200))
  }

  return {
    pid: child.pid!, url, logLines, request,
    async login() {
      const res = await request('POST', '/api/login', { email: ADMIN_EMAIL, password: ADMIN_PASSWORD })
      if (res.status !== 200) throw new Error(`login failed: ${res.status}`)
      cookie = res.headers.get('set-cookie')!.split(';')[0]
      rememberSecret(cookie.split('=')[1])
    },
    async killHard() {
      child.kill('SIGKILL')
      await exited
    },
    async stop() {
      if (child.exitCode === null) child.kill('SIGTERM')
      await exited
    },
  }
}
