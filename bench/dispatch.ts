// Dispatch benchmark: time from the 202 of POST /api/environments/{id}/cache/purge (over HTTP to the app) to the job
// being `running` on an idle control plane, with a no-op runner. Run: npx tsx bench/dispatch.ts  (BENCH_SAMPLES=200)
// A negative figure means the job was already running when the client received the 202 (dispatch happens on enqueue).
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import crypto from 'node:crypto'
import type { AddressInfo } from 'node:net'
import { serve } from '@hono/node-server'
import { loadConfig } from '../runtime/config.js'
import { createLogger } from '../runtime/logging.js'
import { bootstrap } from '../runtime/bootstrap.js'
import type { JobRunner } from '../runtime/jobs/job-runner.js'

const SAMPLES = Number(process.env.BENCH_SAMPLES ?? 200)
const PASSWORD = 'bench-password-1234'

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]
}

async function main(): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pressluft-bench-dispatch-'))
  const config = loadConfig({ PRESSLUFT_DATA_DIR: dir, PRESSLUFT_ADMIN_PASSWORD: PASSWORD, PRESSLUFT_LOG_LEVEL: 'silent' })
  // The runner is invoked right after the claim committed the job as running: that moment is what we measure.
  const runningAt = new Map<string, number>()
  const finished = new Map<string, () => void>()
  const noop: JobRunner = async (job) => {
    runningAt.set(job.id, performance.now())
    setImmediate(() => finished.get(job.id)?.())
    return { ok: true, result: null }
  }
  const plane = await bootstrap(config, createLogger('silent'), { jobRunner: noop, startScheduler: true, scryptParams: { logN: 10, r: 8, p: 1 } })
  const { db } = plane.services
  const now = new Date().toISOString()
  const nodeId = crypto.randomUUID()
  const siteId = crypto.randomUUID()
  const envId = crypto.randomUUID()
  await db.batch([
    { sql: `INSERT INTO nodes (id, name, hostname, public_ip, status, is_local, created_at, updated_at) VALUES (?, 'bench', '198.18.1.1', '198.18.1.1', 'active', 0, ?, ?)`, args: [nodeId, now, now] },
    { sql: `INSERT INTO sites (id, name, slug, status, created_at, updated_at) VALUES (?, 'Bench', 'bench', 'active', ?, ?)`, args: [siteId, now, now] },
    { sql: `INSERT INTO environments (id, site_id, name, slug, environment_type, status, node_id, promotion_preset, preview_url, created_at, updated_at)
      VALUES (?, ?, 'Production', 'production', 'production', 'active', ?, 'content-protect', ?, ?, ?)`, args: [envId, siteId, nodeId, `http://${envId.slice(0, 8)}.bench.sslip.io`, now, now] },
  ], 'write')

  const server = serve({ fetch: plane.app.fetch, hostname: '127.0.0.1', port: 0 })
  await new Promise((resolve) => server.once('listening', resolve))
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  const login = await fetch(`${base}/api/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email: config.adminEmail, password: PASSWORD }) })
  const cookie = login.headers.get('set-cookie')!.split(';')[0]
  const samples: number[] = []
  const fromRequest: number[] = []
  for (let i = 0; i < SAMPLES; i++) {
    const sent = performance.now()
    const res = await fetch(`${base}/api/environments/${envId}/cache/purge`, { method: 'POST', headers: { cookie } })
    const accepted = performance.now()
    if (res.status !== 202) throw new Error(`POST answered ${res.status}: ${await res.text()}`)
    const { job_id: jobId } = await res.json() as { job_id: string }
    await new Promise<void>((resolve) => { if (runningAt.has(jobId)) resolve(); else finished.set(jobId, resolve) })
    samples.push(runningAt.get(jobId)! - accepted)
    fromRequest.push(runningAt.get(jobId)! - sent)
    // Idle system: the previous job is completed before the next request.
    await plane.scheduler!.waitForIdle()
  }
  await plane.scheduler!.stop()
  server.close()
  samples.sort((a, b) => a - b)
  fromRequest.sort((a, b) => a - b)
  console.log(JSON.stringify({
    samples: SAMPLES, median_ms_202_to_running: Number(percentile(samples, 50).toFixed(2)),
    p90_ms: Number(percentile(samples, 90).toFixed(2)), max_ms: Number(samples[samples.length - 1].toFixed(2)),
    median_ms_request_sent_to_running: Number(percentile(fromRequest, 50).toFixed(2)),
    poll_interval_ms: config.pollIntervalMs,
  }))
  db.close()
  fs.rmSync(dir, { recursive: true, force: true })
}

main().catch((error) => { console.error(error); process.exit(1) })
