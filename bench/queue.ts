// Queue benchmark: 10,000 jobs across 1,000 sites and 50 nodes through the real scheduler with a no-op runner.
// Run: npx tsx bench/queue.ts   (BENCH_JOBS, BENCH_SITES, BENCH_NODES, BENCH_CONCURRENCY override the sizes)
// Prints jobs/s, claim latency p50/p99 and the violations of one-running-job-per-site/node, counted by a DB trigger.
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import crypto from 'node:crypto'
import { loadConfig } from '../runtime/config.js'
import { createLogger } from '../runtime/logging.js'
import { bootstrap } from '../runtime/bootstrap.js'
import { queryOne } from '../runtime/store/db.js'
import { JobQueue } from '../runtime/jobs/job-queue.js'
import type { JobRunner } from '../runtime/jobs/job-runner.js'

const JOBS = Number(process.env.BENCH_JOBS ?? 10_000)
const SITES = Number(process.env.BENCH_SITES ?? 1_000)
const NODES = Number(process.env.BENCH_NODES ?? 50)
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 4)
// The default is the database's own setting (FULL: one fsync per commit); NORMAL shows the ceiling without fsyncs.
const SYNCHRONOUS = process.env.BENCH_SYNCHRONOUS

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]
}

async function main(): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pressluft-bench-queue-'))
  const config = loadConfig({ PRESSLUFT_DATA_DIR: dir, PRESSLUFT_ADMIN_PASSWORD: 'bench-password-1234', PRESSLUFT_LOG_LEVEL: 'silent' })
  const logger = createLogger('silent')
  // The no-op runner completes every attempt at once: the figures measure queueing, claiming and completion only.
  const noop: JobRunner = async () => ({ ok: true, result: null })
  const plane = await bootstrap(config, logger, { jobRunner: noop, maxConcurrentJobs: CONCURRENCY, scryptParams: { logN: 10, r: 8, p: 1 } })
  const { db } = plane.services
  if (SYNCHRONOUS) await db.execute(`PRAGMA synchronous = ${SYNCHRONOUS === 'NORMAL' ? 'NORMAL' : 'FULL'}`)
  const synchronous = (await queryOne<{ synchronous: number }>(db, 'PRAGMA synchronous'))!.synchronous

  const now = Date.now()
  const iso = (offsetMs: number) => new Date(now - offsetMs).toISOString()
  const nodes = Array.from({ length: NODES }, () => crypto.randomUUID())
  const sites = Array.from({ length: SITES }, (_, i) => ({ id: crypto.randomUUID(), env: crypto.randomUUID(), node: nodes[i % NODES] }))
  const seed: { sql: string; args: unknown[] }[] = []
  nodes.forEach((id, i) => seed.push({ sql: `INSERT INTO nodes (id, name, hostname, public_ip, status, is_local, created_at, updated_at)
    VALUES (?, ?, ?, ?, 'active', 0, ?, ?)`, args: [id, `node-${i}`, `198.18.1.${i}`, `198.18.1.${i}`, iso(0), iso(0)] }))
  sites.forEach((s, i) => {
    seed.push({ sql: `INSERT INTO sites (id, name, slug, status, created_at, updated_at) VALUES (?, ?, ?, 'active', ?, ?)`, args: [s.id, `Site ${i}`, `site-${i}`, iso(0), iso(0)] })
    seed.push({ sql: `INSERT INTO environments (id, site_id, name, slug, environment_type, status, node_id, promotion_preset, preview_url, created_at, updated_at)
      VALUES (?, ?, 'Production', 'production', 'production', 'active', ?, 'content-protect', ?, ?, ?)`, args: [s.env, s.id, s.node, `http://${s.env.slice(0, 8)}.bench.sslip.io`, iso(0), iso(0)] })
  })
  for (let i = 0; i < JOBS; i++) {
    const s = sites[crypto.randomInt(SITES)]
    const type = i % 4 === 0 ? 'env_cache_toggle' : 'cache_purge'
    const payload = type === 'env_cache_toggle' ? { fastcgi_cache_enabled: i % 8 === 0 } : {}
    seed.push({ sql: `INSERT INTO jobs (id, job_type, status, site_id, environment_id, node_id, payload_json, attempt_count, max_attempts, created_at, updated_at)
      VALUES (?, ?, 'queued', ?, ?, ?, ?, 0, 3, ?, ?)`, args: [crypto.randomUUID(), type, s.id, s.env, s.node, JSON.stringify(payload), iso(JOBS - i), iso(JOBS - i)] })
  }
  for (let i = 0; i < seed.length; i += 2000) await db.batch(seed.slice(i, i + 2000) as never, 'write')

  // Every transition to running checks, inside the same transaction, that no other job of its site/node is running.
  await db.batch([
    'CREATE TABLE bench_violations (job_id TEXT NOT NULL, kind TEXT NOT NULL)',
    `CREATE TRIGGER bench_one_running AFTER UPDATE OF status ON jobs WHEN NEW.status = 'running' BEGIN
       INSERT INTO bench_violations SELECT NEW.id, 'site' WHERE NEW.site_id IS NOT NULL
         AND (SELECT COUNT(*) FROM jobs WHERE status = 'running' AND site_id = NEW.site_id) > 1;
       INSERT INTO bench_violations SELECT NEW.id, 'node'
         WHERE (SELECT COUNT(*) FROM jobs WHERE status = 'running' AND node_id = NEW.node_id) > 1;
     END`,
  ], 'write')

  const claimMs: number[] = []
  const original = JobQueue.prototype.claimNext
  JobQueue.prototype.claimNext = async function (this: JobQueue, ...args: Parameters<typeof original>) {
    const start = performance.now()
    const result = await original.apply(this, args)
    if (result.outcome !== 'none') claimMs.push(performance.now() - start)
    return result
  }

  const started = performance.now()
  await plane.scheduler!.start()
  for (;;) {
    const left = (await queryOne<{ n: number }>(db, "SELECT COUNT(*) AS n FROM jobs WHERE status IN ('queued', 'running')"))!.n
    if (left === 0) break
    await new Promise((r) => setTimeout(r, 50))
  }
  const seconds = (performance.now() - started) / 1000
  await plane.scheduler!.stop()
  const done = (await queryOne<{ n: number }>(db, "SELECT COUNT(*) AS n FROM jobs WHERE status = 'succeeded'"))!.n
  const violations = (await queryOne<{ n: number }>(db, 'SELECT COUNT(*) AS n FROM bench_violations'))!.n
  claimMs.sort((a, b) => a - b)
  console.log(JSON.stringify({
    jobs: JOBS, sites: SITES, nodes: NODES, max_concurrent_jobs: CONCURRENCY, synchronous: ['OFF', 'NORMAL', 'FULL', 'EXTRA'][synchronous], succeeded: done,
    seconds: Number(seconds.toFixed(2)), jobs_per_second: Math.round(done / seconds),
    claim_ms_p50: Number(percentile(claimMs, 50).toFixed(2)), claim_ms_p99: Number(percentile(claimMs, 99).toFixed(2)),
    one_running_per_site_node_violations: violations,
  }))
  db.close()
  fs.rmSync(dir, { recursive: true, force: true })
}

main().catch((error) => { console.error(error); process.exit(1) })
