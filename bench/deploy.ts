// Deploy benchmark on a lab node, in one run (issue 9):
//  1. `202` of POST /api/environments/{id}/deploy (git) → the new release answering on the site (goal ≤ 15 s);
//  2. start of an automatic release_rollback (after a deploy whose health check fails) → the previous release answering
//     (goal ≤ 5 s);
//  3. baseline: the same switch done by hand, `ln -s` + `mv -T` over SSH, → the other release answering.
// Run (root, lab packages installed):  PRESSLUFT_LAB=bench npm run bench:deploy   (BENCH_SAMPLES=3)
// It brings up the lab instance and provisions node1 through the e2e setup (PRESSLUFT_E2E_KEEP_LAB=1 reuses a kept one),
// creates a site and measures with a poll loop of ≤ 10 requests/s against the lab address only.
import fs from 'node:fs'
import http from 'node:http'
import os from 'node:os'
import path from 'node:path'
import { execa } from 'execa'
import setup from '../tests/support/e2e-global-setup.js'
import type { E2eRun } from '../tests/support/e2e-run.js'
import { e2eControlPlaneEnv } from '../tests/support/e2e-run.js'
import { createTestControlPlane, type TestControlPlane } from '../tests/support/control-plane.js'
import { waitForJob } from '../tests/support/jobs.js'
import { labFiles, labStatus } from '../tests/lab/lab.js'
import { queryOne } from '../runtime/store/db.js'

const SAMPLES = Number(process.env.BENCH_SAMPLES ?? 3)
const instance = process.env.PRESSLUFT_LAB ?? 'bench'
process.env.PRESSLUFT_E2E_LAB = instance

function version(ip: string, host: string): Promise<{ status: number; version: string | null }> {
  return new Promise((resolve) => {
    const req = http.request({ host: ip, port: 80, path: `/?pl_bench=${Date.now()}`, headers: { host }, timeout: 10_000, agent: false }, (res) => {
      res.resume()
      res.on('end', () => resolve({ status: res.statusCode ?? 0, version: (res.headers['x-deploy-version'] as string | undefined) ?? null }))
    })
    req.on('error', () => resolve({ status: 0, version: null }))
    req.on('timeout', () => req.destroy(new Error('timeout')))
    req.end()
  })
}

/** Polls (≤ 10 requests/s, gives up after limitMs) until the site answers 200 with the wanted version; returns the time it did. */
async function answeringAt(ip: string, host: string, wanted: string, limitMs = 300_000): Promise<number> {
  const deadline = Date.now() + limitMs
  while (Date.now() < deadline) {
    const started = Date.now()
    const answer = await version(ip, host)
    if (answer.status === 200 && answer.version === wanted) return started
    await new Promise((r) => setTimeout(r, Math.max(0, 100 - (Date.now() - started))))
  }
  throw new Error(`${host} did not answer with ${wanted} within ${limitMs} ms`)
}

function artifact(dir: string, v: string, fatal = false): void {
  fs.rmSync(path.join(dir, 'wp-content'), { recursive: true, force: true })
  fs.mkdirSync(path.join(dir, 'wp-content/mu-plugins'), { recursive: true })
  fs.writeFileSync(path.join(dir, 'wp-content/mu-plugins/pl-deploy-version.php'),
    `<?php\nadd_action('send_headers', function () { header('X-Deploy-Version: ${v}'); });\n`)
  if (fatal) fs.writeFileSync(path.join(dir, 'wp-content/mu-plugins/pl-fatal.php'), '<?php\npl_function_that_does_not_exist();\n')
}

function stats(values: number[]): string {
  const sorted = [...values].sort((a, b) => a - b)
  return `median ${sorted[Math.floor(sorted.length / 2)].toFixed(2)} s (min ${sorted[0].toFixed(2)}, max ${sorted[sorted.length - 1].toFixed(2)}, n=${values.length})`
}

async function main(): Promise<void> {
  let run: E2eRun | undefined
  const teardown = await setup({ provide: (_key: string, value: E2eRun) => { run = value } } as never)
  const lab = labStatus({ instance })
  const node = lab.nodes[0]
  const cp: TestControlPlane = await createTestControlPlane(e2eControlPlaneEnv(lab), { startScheduler: true }, { dataDir: run!.dataDir })
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'pressluft-bench-deploy-'))
  try {
    await cp.login()
    // The lab git server is on the lab gateway (198.18.0.0/15): deploy sources there need the operator's allow-list.
    const allowed = await cp.request('PATCH', '/_admin/settings', { import_allowed_sources: new URL(lab.git.url).hostname })
    if (allowed.status !== 200) throw new Error(`allowing the lab git server failed: ${await allowed.text()}`)
    const slug = `bench${Date.now().toString(36)}`
    const created = await cp.request('POST', '/api/sites', { name: 'Deploy bench', slug, node_id: run!.nodeId })
    const createJob = await waitForJob(cp, (await created.json()).job_id)
    if (createJob.status !== 'succeeded') throw new Error(`site_create ${createJob.status}: ${createJob.error_message}`)
    const env = await queryOne<{ id: string; preview_url: string; site_id: string }>(cp.services.db,
      "SELECT e.id, e.preview_url, e.site_id FROM environments e JOIN sites s ON s.id = e.site_id WHERE s.slug = ? AND e.environment_type = 'production'", [slug])
    const host = new URL(env!.preview_url).hostname
    const envRoot = `/var/www/sites/${env!.site_id}/production`

    const repo = path.join(work, 'repo')
    fs.mkdirSync(repo)
    const git = (args: string[], cwd = repo) => execa('git', ['-c', 'user.email=bench@pressluft.test', '-c', 'user.name=bench', ...args], { cwd })
    await git(['init', '-q', '-b', 'main'])
    const bare = path.join(lab.git.dir, `${slug}.git`)
    const tag = async (v: string, fatal = false) => {
      artifact(repo, v, fatal)
      await git(['add', '-A', '.'])
      await git(['commit', '-q', '-m', v])
      await git(['tag', v])
      await git(['push', '-q', '--tags', bare, 'main'])
    }
    await git(['init', '-q', '--bare', bare], work)

    const deployTimes: number[] = []
    const rollbackTimes: number[] = []
    const baselineTimes: number[] = []
    const deploy = async (v: string) => {
      const res = await cp.request('POST', `/api/environments/${env!.id}/deploy`, { source_type: 'git', source_ref: `${lab.git.url}${slug}.git#${v}` })
      const accepted = Date.now()
      if (res.status !== 202) throw new Error(`deploy answered ${res.status}: ${await res.text()}`)
      return { jobId: (await res.json()).job_id as string, accepted }
    }
    const chainDone = async (jobId: string) => {
      // Wait until the chain (deploy → health_check → maybe release_rollback) has no queued or running job left.
      for (;;) {
        await waitForJob(cp, jobId)
        const open = await queryOne<{ n: number }>(cp.services.db, "SELECT COUNT(*) AS n FROM jobs WHERE site_id = ? AND status IN ('queued', 'running')", [env!.site_id])
        if (open!.n === 0) return
        await new Promise((r) => setTimeout(r, 500))
      }
    }

    let live = 'none'
    for (let i = 1; i <= SAMPLES; i++) {
      // 1. deploy → new release answering
      const good = `good${i}`
      await tag(good)
      const { jobId, accepted } = await deploy(good)
      deployTimes.push((await answeringAt(node.ip, host, good) - accepted) / 1000)
      await chainDone(jobId)
      live = good

      // 2. automatic rollback start → previous release answering
      const bad = `bad${i}`
      await tag(bad, true)
      const failing = await deploy(bad)
      let started: number | undefined
      for (;;) {
        const row = await queryOne<{ started_at: string | null }>(cp.services.db,
          "SELECT started_at FROM jobs WHERE site_id = ? AND job_type = 'release_rollback' AND created_at >= ? AND started_at IS NOT NULL ORDER BY created_at DESC LIMIT 1",
          [env!.site_id, new Date(failing.accepted - 1000).toISOString()])
        if (row?.started_at) { started = Date.parse(row.started_at); break }
        await new Promise((r) => setTimeout(r, 100))
      }
      rollbackTimes.push((await answeringAt(node.ip, host, live) - started) / 1000)
      await chainDone(failing.jobId)
    }

    // 3. baseline: switch current by hand between the two newest healthy releases, over SSH, and back.
    const releases = await (await cp.request('GET', `/api/environments/${env!.id}/releases?limit=50`)).json() as { items: { id: string; source_ref: string; health_status: string; is_current: boolean }[] }
    const current = releases.items.find((r) => r.is_current)!
    const other = releases.items.find((r) => !r.is_current && r.health_status === 'healthy' && r.source_ref.includes('#good'))!
    const pathOf = async (id: string) => (await queryOne<{ path: string }>(cp.services.db, 'SELECT path FROM releases WHERE id = ?', [id]))!.path
    const files = labFiles({ instance })
    const ssh = (cmd: string) => execa('ssh', ['-i', node.ssh_key, '-o', `UserKnownHostsFile=${files.knownHosts}`, '-o', 'StrictHostKeyChecking=yes', '-o', 'BatchMode=yes', `root@${node.ip}`, cmd])
    const targets = [{ rel: await pathOf(other.id), v: other.source_ref.split('#')[1] }, { rel: await pathOf(current.id), v: current.source_ref.split('#')[1] }]
    for (let i = 0; i < SAMPLES * 2; i++) {
      const target = targets[i % 2]
      const t0 = Date.now()
      await ssh(`cd ${envRoot} && ln -sfn releases/${path.basename(target.rel)} current.bench-tmp && mv -T current.bench-tmp current`)
      baselineTimes.push((await answeringAt(node.ip, host, target.v) - t0) / 1000)
    }

    const load = fs.readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')
    console.log(`deploy bench on lab "${instance}" node ${node.ip}, ${new Date().toISOString()}, load average ${load}`)
    console.log(`  202 of a git deploy → new release answering:            ${stats(deployTimes)}   (goal ≤ 15 s)`)
    console.log(`  automatic rollback start → previous release answering:  ${stats(rollbackTimes)}   (goal ≤ 5 s)`)
    console.log(`  baseline ln -s + mv -T over SSH → other release answering: ${stats(baselineTimes)}`)
  } finally {
    await cp.close()
    fs.rmSync(work, { recursive: true, force: true })
    if (typeof teardown === 'function') await teardown()
  }
}

main().then(() => process.exit(0), (error: Error) => { console.error(error); process.exit(1) })
