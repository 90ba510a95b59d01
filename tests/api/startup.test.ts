import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { describe, it, expect, afterAll } from 'vitest'
import { execa } from 'execa'
import { openDatabase, queryOne } from '../../runtime/store/db.js'

const dirs: string[] = []
afterAll(() => { for (const d of dirs) fs.rmSync(d, { recursive: true, force: true }) })

function tempDir(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'pressluft-start-'))
  dirs.push(d)
  return d
}

async function freePort(): Promise<number> {
  const net = await import('node:net')
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port
      s.close(() => resolve(port))
    })
  })
}

describe('npm start on a fresh data directory', () => {
  it('migrates, creates the admin with a password printed once, makes the SSH key, listens — and registers no node and enqueues no job', async () => {
    const dataDir = tempDir()
    const port = await freePort()
    const child = execa(process.execPath, ['--import', 'tsx', 'runtime/main.ts'], {
      env: { PRESSLUFT_DATA_DIR: dataDir, PRESSLUFT_LISTEN_ADDR: `127.0.0.1:${port}`, PRESSLUFT_ADMIN_PASSWORD: '' },
      reject: false, all: true,
    })
    let output = ''
    child.all!.on('data', (d) => { output += String(d) })
    const deadline = Date.now() + 30_000
    while (!output.includes('control plane listening') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200))
    expect(output).toContain('control plane listening')
    const password = /Generated password \(shown only once\): (\S+)/.exec(output)?.[1]
    expect(password).toMatch(/^[A-Za-z0-9_-]{32}$/)
    expect(output.split(password!).length - 1).toBe(1)

    const login = await fetch(`http://127.0.0.1:${port}/api/login`, {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email: 'admin@pressluft.local', password }),
    })
    expect(login.status).toBe(200)
    // Give the scheduler a few ticks to prove it decides to do nothing on an empty control plane.
    await new Promise((r) => setTimeout(r, 3000))
    child.kill('SIGTERM')
    await child

    const db = openDatabase(`file:${path.join(dataDir, 'pressluft.db')}`)
    expect((await queryOne<{ n: number }>(db, 'SELECT COUNT(*) AS n FROM nodes'))?.n).toBe(0)
    expect((await queryOne<{ n: number }>(db, 'SELECT COUNT(*) AS n FROM jobs'))?.n).toBe(0)
    db.close()
    const keyMode = fs.statSync(path.join(dataDir, 'secrets', 'master.key')).mode & 0o777
    expect(keyMode).toBe(0o600)
    expect(fs.existsSync(path.join(dataDir, 'secrets', 'ssh', 'control-plane.jwe'))).toBe(true)
    // The private key is stored encrypted, never in clear.
    expect(fs.readFileSync(path.join(dataDir, 'secrets', 'ssh', 'control-plane.jwe'), 'utf8')).not.toContain('PRIVATE KEY')
  })

  it('stops with one clear line naming an invalid variable', async () => {
    const result = await execa(process.execPath, ['--import', 'tsx', 'runtime/main.ts'], {
      env: { PRESSLUFT_DATA_DIR: tempDir(), PRESSLUFT_MAX_CONCURRENT_JOBS: 'lots' }, reject: false,
    })
    expect(result.exitCode).toBe(1)
    const lines = result.stderr.split('\n').filter((l) => l.trim() && !l.includes('npm warn'))
    expect(lines).toEqual(['pressluft: invalid configuration: PRESSLUFT_MAX_CONCURRENT_JOBS: must be an integer from 1 to 256, got "lots"'])
  })

  it('refuses to start when the secrets key is readable by others', async () => {
    const dataDir = tempDir()
    fs.mkdirSync(path.join(dataDir, 'secrets'), { recursive: true })
    fs.writeFileSync(path.join(dataDir, 'secrets', 'master.key'), Buffer.alloc(32, 1), { mode: 0o644 })
    fs.chmodSync(path.join(dataDir, 'secrets', 'master.key'), 0o644)
    const result = await execa(process.execPath, ['--import', 'tsx', 'runtime/main.ts'], { env: { PRESSLUFT_DATA_DIR: dataDir, PRESSLUFT_LISTEN_ADDR: '127.0.0.1:1' }, reject: false })
    expect(result.exitCode).toBe(1)
    expect(result.stderr).toContain('master.key is accessible by group or others')
  })
})
