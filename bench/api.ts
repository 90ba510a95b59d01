// API benchmark: authenticated GET /api/sites with 100 sites vs a bare Hono route, each served by its own process.
// Run: npm run bench:api   (prints requests/s, p50/p99 latency and the ratio to the baseline)
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import crypto from 'node:crypto'
import autocannon from 'autocannon'
import { execa, type ResultPromise } from 'execa'
import { openDatabase, prepareDatabase, batchWrite } from '../runtime/store/db.js'
import { migrate } from '../runtime/store/migrate.js'

const DURATION_S = Number(process.env.BENCH_DURATION ?? 10)
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 10)
const SITES = 100

async function seedSites(dataDir: string): Promise<void> {
  const db = openDatabase(`file:${path.join(dataDir, 'pressluft.db')}`)
  await prepareDatabase(db)
  await migrate(db)
  const now = new Date().toISOString()
  const nodeId = crypto.randomUUID()
  const statements = [{
    sql: `INSERT INTO nodes (id, name, hostname, public_ip, ssh_port, ssh_user, status, is_local, created_at, updated_at)
          VALUES (?, 'bench', '198.18.0.2', '198.18.0.2', 22, 'root', 'active', 0, ?, ?)`, args: [nodeId, now, now],
  }]
  for (let i = 0; i < SITES; i++) {
    const siteId = crypto.randomUUID()
    const ts = new Date(Date.now() - i * 1000).toISOString()
    statements.push({ sql: `INSERT INTO sites (id, name, slug, status, created_at, updated_at) VALUES (?, ?, ?, 'active', ?, ?)`, args: [siteId, `Site ${i}`, `site-${i}`, ts, ts] })
  }
  await batchWrite(db, statements)
  db.close()
}

async function startServer(args: string[]): Promise<{ port: number; child: ResultPromise }> {
  const child = execa(process.execPath, ['--import', 'tsx', 'bench/support/serve.ts', ...args], { reject: false })
  const port = await new Promise<number>((resolve, reject) => {
    child.stdout!.on('data', (d) => { const m = /"port":(\d+)/.exec(String(d)); if (m) resolve(Number(m[1])) })
    child.catch(reject)
  })
  return { port, child }
}

async function load(url: string, headers: Record<string, string>) {
  const result = await autocannon({ url, connections: CONNECTIONS, duration: DURATION_S, headers })
  if (result.non2xx > 0 || result.errors > 0) throw new Error(`${url}: ${result.non2xx} non-2xx, ${result.errors} errors`)
  return { rps: result.requests.average, p50: result.latency.p50, p99: result.latency.p99, total: result.requests.total }
}

async function main() {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'pressluft-bench-api-'))
  try {
    await seedSites(dataDir)
    const bare = await startServer(['bare'])
    const plane = await startServer(['pressluft', dataDir])
    const login = await fetch(`http://127.0.0.1:${plane.port}/api/login`, {
      method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: 'admin@pressluft.local', password: 'benchmark-password-123' }),
    })
    const cookie = login.headers.get('set-cookie')!.split(';')[0]
    const check = await (await fetch(`http://127.0.0.1:${plane.port}/api/sites?limit=100`, { headers: { cookie } })).json()
    if (check.items?.length !== SITES) throw new Error(`expected ${SITES} sites, got ${JSON.stringify(check).slice(0, 200)}`)

    const baseline = await load(`http://127.0.0.1:${bare.port}/api/sites`, {})
    const real = await load(`http://127.0.0.1:${plane.port}/api/sites?limit=100`, { cookie })
    bare.child.kill(); plane.child.kill()
    console.log(`API benchmark (${CONNECTIONS} connections, ${DURATION_S} s each, Node ${process.version}, ${os.cpus().length} cores)`)
    console.log(`bare Hono route           : ${baseline.rps.toFixed(0)} req/s, p50 ${baseline.p50} ms, p99 ${baseline.p99} ms`)
    console.log(`GET /api/sites (100 sites): ${real.rps.toFixed(0)} req/s, p50 ${real.p50} ms, p99 ${real.p99} ms`)
    console.log(`ratio pressluft / bare    : ${(real.rps / baseline.rps).toFixed(3)}`)
  } finally {
    fs.rmSync(dataDir, { recursive: true, force: true })
  }
}

main().catch((e) => { console.error(e); process.exit(1) })
