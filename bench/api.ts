// API benchmark: authenticated GET /api/sites?limit=100 with 100 sites on the BUILT control plane (`node
// dist/runtime/main.js`, scheduler running, as installed) against a bare Hono route that serves the identical JSON from
// memory (bench/support/bare-server.mjs, plain node), the baseline of the goal. Two more targets are floors
// (bench/support/db-read-server.mjs): a bare Hono route doing only the control plane's database read of the page on the
// same database file (what the read itself costs), and the same route that first checks the session cookie as the
// control plane does (what any authenticated read costs on this stack, before validation and middleware). Each runs in
// its own process; autocannon loads them in turn. For the memory goal the run also starts a process that holds only the
// libraries the control plane's server needs (bench/support/libraries-server.mjs) and prints its idle RSS.
// Run: npm run bench:api   (builds first; prints requests/s, p50/p99, the ratio, the control plane's RSS idle and
// under load, and whether the goals of docs/performance.md are met). BENCH_DURATION (s, default 10),
// BENCH_CONNECTIONS (default 10), BENCH_ROUNDS (default 5: the duration is split into that many alternating slices),
// BENCH_CPU_PROF=<dir> (runs the control plane with --cpu-prof into that directory), BENCH_MAIN (see below).
import fs from 'node:fs'
import os from 'node:os'
import net from 'node:net'
import path from 'node:path'
import crypto from 'node:crypto'
import autocannon from 'autocannon'
import { execa, type ResultPromise } from 'execa'
import { openDatabase, prepareDatabase, batchWrite } from '../runtime/store/db.js'
import { migrate } from '../runtime/store/migrate.js'

const DURATION_S = Number(process.env.BENCH_DURATION ?? 10)
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 10)
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5)
const CPU_PROF_DIR = process.env.BENCH_CPU_PROF
const SITES = 100
const PASSWORD = 'benchmark-password-123'
// BENCH_MAIN: another build's main.js (e.g. of an earlier commit, for a before/after comparison on the same machine).
const MAIN = path.resolve(process.env.BENCH_MAIN ?? 'dist/runtime/main.js')

// Goals of issue 12 point 6 (docs/performance.md, "API").
const GOAL_RATIO = 0.5
const GOAL_P99_MS = 10
const GOAL_RSS_IDLE_MB = 80
const GOAL_RSS_LOAD_MB = 150

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

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as net.AddressInfo
      probe.close(() => resolve(port))
    }).on('error', reject)
  })
}

async function waitForHttp(url: string, child: ResultPromise): Promise<void> {
  const deadline = Date.now() + 60_000
  let exited = false
  void child.finally(() => { exited = true })
  for (;;) {
    if (exited) throw new Error(`server exited before answering: ${(await child).stderr}`)
    try { await fetch(url); return } catch { /* not listening yet */ }
    if (Date.now() > deadline) throw new Error(`${url} did not answer within 60 s`)
    await new Promise((r) => setTimeout(r, 100))
  }
}

/** The built control plane, exactly as `node dist/runtime/main.js` runs in production. */
async function startControlPlane(dataDir: string): Promise<{ port: number; child: ResultPromise }> {
  const port = await freePort()
  const nodeArgs = CPU_PROF_DIR ? ['--cpu-prof', `--cpu-prof-dir=${path.resolve(CPU_PROF_DIR)}`] : []
  const child = execa(process.execPath, [...nodeArgs, MAIN], {
    reject: false,
    extendEnv: false,
    env: {
      PATH: process.env.PATH, HOME: process.env.HOME, NODE_ENV: 'production',
      PRESSLUFT_DATA_DIR: dataDir, PRESSLUFT_ADMIN_PASSWORD: PASSWORD, PRESSLUFT_LISTEN_ADDR: `127.0.0.1:${port}`, PRESSLUFT_LOG_LEVEL: 'warn',
    },
  })
  // Any answer will do (401 here). Not the OpenAPI document: it is built on its first request, which an installed
  // control plane sees only when someone reads the docs, and building it would count in the idle figure.
  await waitForHttp(`http://127.0.0.1:${port}/api/sites`, child)
  return { port, child }
}

/** A helper server of bench/support (plain node) that prints {"port":N} when it listens. */
async function startHelper(script: string, ...args: string[]): Promise<{ port: number; child: ResultPromise }> {
  const child = execa(process.execPath, [script, ...args], { reject: false })
  const port = await new Promise<number>((resolve, reject) => {
    child.stdout!.on('data', (d) => { const m = /"port":(\d+)/.exec(String(d)); if (m) resolve(Number(m[1])) })
    void child.then((r) => reject(new Error(`${script} exited: ${r.stderr}`)))
  })
  return { port, child }
}

/** Resident memory of a process by kind, in MB: file-backed pages (node binary, native modules, libraries) and anonymous. */
function residentKinds(pid: number): { file: number; anon: number } {
  const rollup = fs.readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8')
  const kb = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(rollup)![1])
  return { file: (kb('Rss') - kb('Anonymous')) / 1024, anon: kb('Anonymous') / 1024 }
}

/** VmRSS and VmHWM (peak RSS) of a process, in MB. */
function memoryOf(pid: number): { rss: number; hwm: number } {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8')
  const kb = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status)![1])
  return { rss: kb('VmRSS') / 1024, hwm: kb('VmHWM') / 1024 }
}

/**
 * Idle memory of a process that has just served its first requests: VmRSS and its kinds after 3 s without traffic (the
 * goal's figure), and VmRSS again at 10 s, after V8's memory reducer, which runs about 8 s after the last allocations,
 * has shrunk the heap.
 */
async function idleMemory(pid: number): Promise<{ rss: number; kinds: { file: number; anon: number }; rssLater: number }> {
  await new Promise((r) => setTimeout(r, 3000))
  const { rss } = memoryOf(pid)
  const kinds = residentKinds(pid)
  await new Promise((r) => setTimeout(r, 7000))
  return { rss, kinds, rssLater: memoryOf(pid).rss }
}

interface Tally { requests: number; seconds: number; latencies: number[]; cpuMs: number }

/** CPU time (user + system) a process has used so far, in ms (from /proc/<pid>/stat, clock ticks of 10 ms). */
function cpuMsOf(pid: number): number {
  const fields = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /, '').split(' ')
  return (Number(fields[11]) + Number(fields[12])) * 10
}

/** One slice of load; every response time is kept, so percentiles are exact over all slices of a target. */
function slice(url: string, headers: Record<string, string>, durationS: number, tally?: Tally, pid?: number): Promise<void> {
  const cpuBefore = pid ? cpuMsOf(pid) : 0
  return new Promise((resolve, reject) => {
    const instance = autocannon({ url, connections: CONNECTIONS, duration: durationS, headers }, (error, result) => {
      if (error) return reject(error)
      if (result.non2xx > 0 || result.errors > 0) return reject(new Error(`${url}: ${result.non2xx} non-2xx, ${result.errors} errors`))
      if (tally) { tally.requests += result.requests.total; tally.seconds += result.duration }
      if (tally && pid) tally.cpuMs += cpuMsOf(pid) - cpuBefore
      resolve()
    })
    if (tally) instance.on('response', (_client: unknown, _status: number, _bytes: number, ms: number) => { tally.latencies.push(ms) })
  })
}

function summary(t: Tally) {
  const sorted = [...t.latencies].sort((a, b) => a - b)
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]
  return { rps: t.requests / t.seconds, p50: at(0.5), p99: at(0.99), requests: t.requests, cpuUsPerRequest: (t.cpuMs * 1000) / t.requests }
}

const mb = (n: number) => `${n.toFixed(1)} MB`
const verdict = (ok: boolean) => (ok ? 'met' : 'MISSED')

async function main() {
  if (!fs.existsSync(MAIN)) throw new Error(`${MAIN} is missing: run npm run build first (npm run bench:api does)`)
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'pressluft-bench-api-'))
  let plane: { port: number; child: ResultPromise } | undefined
  let bare: { port: number; child: ResultPromise } | undefined
  let floor: { port: number; child: ResultPromise } | undefined
  let sessionFloor: { port: number; child: ResultPromise } | undefined
  let libraries: { port: number; child: ResultPromise } | undefined
  try {
    await seedSites(dataDir)
    plane = await startControlPlane(dataDir)
    const base = `http://127.0.0.1:${plane.port}`
    const login = await fetch(`${base}/api/login`, {
      method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: 'admin@pressluft.local', password: PASSWORD }),
    })
    if (login.status !== 200) throw new Error(`login answered ${login.status}: ${await login.text()}`)
    const cookie = login.headers.get('set-cookie')!.split(';')[0]
    const realBody = Buffer.from(await (await fetch(`${base}/api/sites?limit=100`, { headers: { cookie } })).arrayBuffer())
    const parsed = JSON.parse(realBody.toString('utf8'))
    if (parsed.items?.length !== SITES) throw new Error(`expected ${SITES} sites, got ${realBody.toString('utf8').slice(0, 200)}`)

    // (VmHWM is not the idle figure: start-up and the login each hash a password with scrypt, 128 MiB for a moment.)
    const idle = await idleMemory(plane.child.pid!)

    // The same idle figures of a process holding only the libraries (bench/support/libraries-server.mjs).
    libraries = await startHelper('bench/support/libraries-server.mjs', path.join(dataDir, 'pressluft.db'))
    const libraryAnswer = await fetch(`http://127.0.0.1:${libraries.port}/api/count?limit=1`)
    if (libraryAnswer.status !== 200) throw new Error(`the libraries server answered ${libraryAnswer.status}`)
    const librariesIdle = await idleMemory(libraries.child.pid!)
    libraries.child.kill('SIGTERM')

    const bodyFile = path.join(dataDir, 'sites-body.json')
    fs.writeFileSync(bodyFile, realBody)
    bare = await startHelper('bench/support/bare-server.mjs', bodyFile)
    const bareUrl = `http://127.0.0.1:${bare.port}/api/sites`
    const bareBody = Buffer.from(await (await fetch(bareUrl)).arrayBuffer())
    if (!bareBody.equals(realBody)) throw new Error('the baseline does not serve the same bytes as GET /api/sites')
    floor = await startHelper('bench/support/db-read-server.mjs', path.join(dataDir, 'pressluft.db'))
    const floorUrl = `http://127.0.0.1:${floor.port}/api/sites?limit=100`
    const floorBody = Buffer.from(await (await fetch(floorUrl)).arrayBuffer())
    if (!floorBody.equals(realBody)) throw new Error('the floor does not serve the same bytes as GET /api/sites')
    sessionFloor = await startHelper('bench/support/db-read-server.mjs', path.join(dataDir, 'pressluft.db'), '--session')
    const sessionUrl = `http://127.0.0.1:${sessionFloor.port}/api/sites?limit=100`
    if ((await fetch(sessionUrl)).status !== 401) throw new Error('the session floor answers without a session')
    const sessionBody = Buffer.from(await (await fetch(sessionUrl, { headers: { cookie } })).arrayBuffer())
    if (!sessionBody.equals(realBody)) throw new Error('the session floor does not serve the same bytes as GET /api/sites')

    // Warm-up of all four (JIT, statement cache), not counted.
    await slice(bareUrl, {}, 2)
    await slice(floorUrl, {}, 2)
    await slice(sessionUrl, { cookie }, 2)
    await slice(`${base}/api/sites?limit=100`, { cookie }, 2)

    // Measured: ROUNDS alternating slices (baseline, floors, control plane), so that a change of load on the shared machine
    // hits all alike; requests/s = requests / seconds over all slices, latency percentiles over every response.
    let hwmReset = true
    try { fs.writeFileSync(`/proc/${plane.child.pid}/clear_refs`, '5') } catch { hwmReset = false } // '5' resets VmHWM
    let peakRss = 0
    const sampler = setInterval(() => { peakRss = Math.max(peakRss, memoryOf(plane!.child.pid!).rss) }, 100)
    const bareTally: Tally = { requests: 0, seconds: 0, latencies: [], cpuMs: 0 }
    const floorTally: Tally = { requests: 0, seconds: 0, latencies: [], cpuMs: 0 }
    const sessionTally: Tally = { requests: 0, seconds: 0, latencies: [], cpuMs: 0 }
    const realTally: Tally = { requests: 0, seconds: 0, latencies: [], cpuMs: 0 }
    const sliceS = DURATION_S / ROUNDS
    for (let i = 0; i < ROUNDS; i++) {
      await slice(bareUrl, {}, sliceS, bareTally, bare.child.pid)
      await slice(floorUrl, {}, sliceS, floorTally, floor.child.pid)
      await slice(sessionUrl, { cookie }, sliceS, sessionTally, sessionFloor.child.pid)
      await slice(`${base}/api/sites?limit=100`, { cookie }, sliceS, realTally, plane.child.pid)
    }
    clearInterval(sampler)
    const loaded = memoryOf(plane.child.pid!)
    peakRss = Math.max(peakRss, loaded.rss)
    const baseline = summary(bareTally)
    const dbRead = summary(floorTally)
    const sessionRead = summary(sessionTally)
    const real = summary(realTally)
    const ratio = real.rps / baseline.rps

    console.log(`API benchmark (built server ${path.relative(process.cwd(), MAIN)}, ${CONNECTIONS} connections, ${DURATION_S} s per target in ${ROUNDS} alternating slices, Node ${process.version}, ${os.cpus().length} cores, load average ${os.loadavg()[0].toFixed(1)})`)
    console.log(`body: ${realBody.length} bytes, ${SITES} sites; the baseline serves the identical bytes`)
    console.log(`bare Hono route           : ${baseline.rps.toFixed(0)} req/s, p50 ${baseline.p50.toFixed(2)} ms, p99 ${baseline.p99.toFixed(2)} ms; server CPU ${baseline.cpuUsPerRequest.toFixed(0)} µs/request`)
    console.log(`floor: database read only : ${dbRead.rps.toFixed(0)} req/s, p50 ${dbRead.p50.toFixed(2)} ms, p99 ${dbRead.p99.toFixed(2)} ms; server CPU ${dbRead.cpuUsPerRequest.toFixed(0)} µs/request`)
    console.log(`floor + session check     : ${sessionRead.rps.toFixed(0)} req/s, p50 ${sessionRead.p50.toFixed(2)} ms, p99 ${sessionRead.p99.toFixed(2)} ms; server CPU ${sessionRead.cpuUsPerRequest.toFixed(0)} µs/request`)
    console.log(`GET /api/sites (100 sites): ${real.rps.toFixed(0)} req/s, p50 ${real.p50.toFixed(2)} ms, p99 ${real.p99.toFixed(2)} ms; server CPU ${real.cpuUsPerRequest.toFixed(0)} µs/request`)
    console.log(`ratio pressluft / bare    : ${ratio.toFixed(3)} (floor / bare ${(dbRead.rps / baseline.rps).toFixed(3)}; floor + session / bare ${(sessionRead.rps / baseline.rps).toFixed(3)}; pressluft / floor + session ${(real.rps / sessionRead.rps).toFixed(3)})`)
    console.log(`control plane RSS idle    : ${mb(idle.rss)} (VmRSS after start-up, one login, one list and 3 s without traffic; `
      + `file-backed ${mb(idle.kinds.file)}, anonymous ${mb(idle.kinds.anon)}); after 10 s ${mb(idle.rssLater)}`)
    console.log(`libraries alone RSS idle : ${mb(librariesIdle.rss)} (the same figure of bench/support/libraries-server.mjs: node-server, zod-openapi, zod, pino, libsql, jose, one route); after 10 s ${mb(librariesIdle.rssLater)}`)
    console.log(`control plane RSS in load : ${mb(peakRss)} (highest VmRSS, sampled every 100 ms; ${hwmReset ? `VmHWM since the load began ${mb(loaded.hwm)}` : 'VmHWM could not be reset'})`)
    const inLoad = hwmReset ? Math.max(peakRss, loaded.hwm) : peakRss
    console.log(`goals: ratio ${ratio.toFixed(3)} >= ${GOAL_RATIO} ${verdict(ratio >= GOAL_RATIO)}; p99 ${real.p99.toFixed(2)} ms < ${GOAL_P99_MS} ms ${verdict(real.p99 < GOAL_P99_MS)}; `
      + `RSS idle ${mb(idle.rss)} <= ${GOAL_RSS_IDLE_MB} MB ${verdict(idle.rss <= GOAL_RSS_IDLE_MB)}; `
      + `RSS in load ${mb(inLoad)} <= ${GOAL_RSS_LOAD_MB} MB ${verdict(inLoad <= GOAL_RSS_LOAD_MB)}`)
  } finally {
    bare?.child.kill()
    floor?.child.kill('SIGTERM')
    sessionFloor?.child.kill('SIGTERM')
    // SIGTERM: main.js shuts down cleanly (and writes its --cpu-prof profile).
    plane?.child.kill('SIGTERM')
    libraries?.child.kill('SIGTERM')
    await Promise.allSettled([bare?.child, floor?.child, sessionFloor?.child, libraries?.child, plane?.child])
    fs.rmSync(dataDir, { recursive: true, force: true })
  }
}

main().catch((e) => { console.error(e); process.exit(1) })
