import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import crypto from 'node:crypto'
import { describe, it, expect, afterEach } from 'vitest'
import { execa } from 'execa'
import { createTestControlPlane, type TestControlPlane } from '../support/control-plane.js'
import { insertActiveNode, createActiveSite, createActiveStaging, configureBackupStorage, row, auditsFor, jobsOfType, count } from '../support/seed.js'
import { waitForJob } from '../support/jobs.js'
import type { JobOutcome, JobRunner } from '../../runtime/jobs/job-runner.js'
import type { JobRow } from '../../runtime/store/jobs.js'
import { runDirFor, runRoot } from '../../runtime/ansible/run-dir.js'

/**
 * The engine's semantics (claim, completion effects, follow-ups, retries, recovery) with a runner that returns
 * scripted outcomes instead of running playbooks; tests/ansible/ runs the real runner.
 */
function scriptedRunner(script: (job: JobRow, signal: AbortSignal) => JobOutcome | Promise<JobOutcome>): JobRunner & { seen: JobRow[] } {
  const seen: JobRow[] = []
  const runner = (async (job: JobRow, ctx: { signal: AbortSignal }) => { seen.push(job); return script(job, ctx.signal) }) as unknown as JobRunner & { seen: JobRow[] }
  runner.seen = seen
  return runner
}

const ok = (result: Record<string, unknown> | null = null): JobOutcome => ({ ok: true, result })
const HEALTHY = { http_status: 200, installed: true, db_ok: true }

async function until(predicate: () => Promise<boolean> | boolean, timeoutMs = 10_000, label = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${label}`)
    await new Promise((r) => setTimeout(r, 20))
  }
}

describe('job engine', () => {
  let cp: TestControlPlane | undefined
  afterEach(async () => { await cp?.close(); cp = undefined })

  async function plane(runner: JobRunner, env: Record<string, string> = {}, maxConcurrentJobs?: number) {
    cp = await createTestControlPlane({ PRESSLUFT_POLL_INTERVAL_MS: '60000', ...env }, { jobRunner: runner, maxConcurrentJobs })
    await cp.login()
    const nodeId = await insertActiveNode(cp, { name: 'node-1' })
    const site = await createActiveSite(cp, 'alpha', nodeId)
    return { cp, nodeId, site }
  }
  const status = async (table: string, id: string) => (await row<{ status: string }>(cp!, `SELECT status FROM ${table} WHERE id = ?`, [id])).status

  it('starts a job right after the enqueue commits, without waiting for the poll interval', async () => {
    const runner = scriptedRunner(() => ok())
    const { cp, site } = await plane(runner)
    await cp.scheduler!.start()
    const started = Date.now()
    const { job_id } = await (await cp.request('POST', `/api/environments/${site.productionId}/cache/purge`)).json()
    await until(() => runner.seen.some((j) => j.id === job_id), 1500, 'dispatch')
    expect(Date.now() - started).toBeLessThan(1500)
    expect((await waitForJob(cp, job_id, 5000)).status).toBe('succeeded')
    expect(await count(cp, 'audit_logs', "action = 'cache_purge' AND result = 'succeeded' AND job_id = ?", [job_id])).toBe(1)
  })

  it('deploys: new release current, health_check follow-up first, then the chain ends with the site active and the release healthy', async () => {
    const runner = scriptedRunner((job) => ok(job.job_type === 'health_check' ? HEALTHY : null))
    const { cp, site } = await plane(runner)
    const before = await row<{ current_release_id: string }>(cp, 'SELECT current_release_id FROM environments WHERE id = ?', [site.productionId])
    const { job_id } = await (await cp.request('POST', `/api/environments/${site.productionId}/deploy`, { source_type: 'git', source_ref: 'https://example.test/a.git#v2' })).json()
    // Queued behind the deploy: must wait until the follow-up has run.
    const purge = await (await cp.request('POST', `/api/environments/${site.productionId}/cache/purge`)).json()
    await cp.scheduler!.start()
    expect((await waitForJob(cp, purge.job_id, 10_000)).status).toBe('succeeded')
    expect(runner.seen.map((j) => j.job_type)).toEqual(['env_deploy', 'health_check', 'cache_purge'])

    const env = await row<{ status: string; current_release_id: string }>(cp, 'SELECT status, current_release_id FROM environments WHERE id = ?', [site.productionId])
    expect(env.status).toBe('active')
    expect(await status('sites', site.siteId)).toBe('active')
    const release = await row<{ source_type: string; source_ref: string; path: string; health_status: string }>(cp, 'SELECT * FROM releases WHERE id = ?', [env.current_release_id])
    const deployJob = await row<{ created_at: string }>(cp, 'SELECT created_at FROM jobs WHERE id = ?', [job_id])
    expect(release).toMatchObject({ source_type: 'git', source_ref: 'https://example.test/a.git#v2', health_status: 'healthy',
      path: `/var/www/sites/${site.siteId}/production/releases/${deployJob.created_at.slice(0, 19).replace(/[-T:]/g, '')}` })
    const [health] = await jobsOfType(cp, 'health_check')
    expect(health).toMatchObject({ status: 'succeeded', site_id: site.siteId, environment_id: site.productionId })
    expect(JSON.parse(health.payload_json)).toEqual({ release_id: env.current_release_id, previous_release_id: before.current_release_id, rollback_backup_id: null })
    expect((await row<{ parent_job_id: string; requested_by: string }>(cp, 'SELECT parent_job_id, requested_by FROM jobs WHERE id = ?', [health.id])).parent_job_id).toBe(job_id)
    expect((await auditsFor(cp, 'env_deploy')).map((a) => a.result)).toEqual(['accepted', 'succeeded'])
    expect((await auditsFor(cp, 'health_check')).map((a) => a.result)).toEqual(['succeeded'])
  })

  it('rolls back to the previous release when the health check fails, then reactivates the site', async () => {
    const runner = scriptedRunner((job) => job.job_type === 'health_check'
      ? { ok: false, code: 'HEALTH_CHECK_FAILED', message: 'PRESSLUFT_ERROR=HEALTH_CHECK_FAILED HTTP 500' } : ok())
    const { cp, site } = await plane(runner)
    const before = await row<{ current_release_id: string }>(cp, 'SELECT current_release_id FROM environments WHERE id = ?', [site.productionId])
    await cp.request('POST', `/api/environments/${site.productionId}/deploy`, { source_type: 'git', source_ref: 'https://example.test/a.git#bad' })
    await cp.scheduler!.start()
    await until(async () => (await jobsOfType(cp, 'release_rollback'))[0]?.status === 'succeeded', 10_000, 'rollback')
    expect(runner.seen.map((j) => j.job_type)).toEqual(['env_deploy', 'health_check', 'release_rollback'])
    const [health] = await jobsOfType(cp, 'health_check')
    const failedRelease = JSON.parse(health.payload_json).release_id
    expect(health.status).toBe('failed')
    expect((await row<{ health_status: string }>(cp, 'SELECT health_status FROM releases WHERE id = ?', [failedRelease])).health_status).toBe('unhealthy')
    const [rollback] = await jobsOfType(cp, 'release_rollback')
    expect(JSON.parse(rollback.payload_json)).toEqual({ failed_release_id: failedRelease, to_release_id: before.current_release_id, restore_db_backup_id: null })
    expect((await row<{ current_release_id: string; status: string }>(cp, 'SELECT current_release_id, status FROM environments WHERE id = ?', [site.productionId])))
      .toEqual({ current_release_id: before.current_release_id, status: 'active' })
    expect(await status('sites', site.siteId)).toBe('active')
  })

  it('retries a retryable failure after 1 and 5 minutes, then fails the chain and audits the failure', async () => {
    const runner = scriptedRunner(() => ({ ok: false, code: 'ANSIBLE_HOST_FAILED', message: 'fatal: [node]: FAILED!' }))
    const { cp, site } = await plane(runner)
    const { job_id } = await (await cp.request('POST', `/api/environments/${site.productionId}/deploy`, { source_type: 'git', source_ref: 'https://example.test/a.git#v3' })).json()
    await cp.scheduler!.start()
    const delays: number[] = []
    for (const attempt of [1, 2]) {
      await until(async () => (await row<{ attempt_count: number; status: string }>(cp, 'SELECT attempt_count, status FROM jobs WHERE id = ?', [job_id])).attempt_count === attempt
        && (await status('jobs', job_id)) === 'queued', 10_000, `attempt ${attempt}`)
      const job = await row<{ run_after: string; updated_at: string; error_code: string; locked_by: string | null }>(cp, 'SELECT * FROM jobs WHERE id = ?', [job_id])
      expect(job).toMatchObject({ error_code: 'ANSIBLE_HOST_FAILED', locked_by: null })
      delays.push(Math.round((Date.parse(job.run_after) - Date.parse(job.updated_at)) / 60_000))
      // Resources keep their in-progress state while the job waits.
      expect(await status('sites', site.siteId)).toBe('deploying')
      await cp.services.db.execute({ sql: 'UPDATE jobs SET run_after = ? WHERE id = ?', args: [new Date(Date.now() - 1000).toISOString(), job_id] })
      cp.services.jobControl.wake()
    }
    expect(delays).toEqual([1, 5])
    const final = await waitForJob(cp, job_id, 10_000)
    expect(final).toMatchObject({ status: 'failed', attempt_count: 3, error_code: 'ANSIBLE_HOST_FAILED' })
    expect(await status('sites', site.siteId)).toBe('failed')
    expect(await status('environments', site.productionId)).toBe('failed')
    expect((await auditsFor(cp, 'env_deploy')).map((a) => a.result)).toEqual(['accepted', 'failed'])
  })

  it('waits the PRESSLUFT_RETRY_BACKOFF_SECONDS schedule between attempts and succeeds on the third', async () => {
    let calls = 0
    const runner = scriptedRunner(() => (++calls < 3 ? { ok: false, code: 'ANSIBLE_HOST_UNREACHABLE', message: 'UNREACHABLE!' } : ok()))
    const { cp, site } = await plane(runner, { PRESSLUFT_RETRY_BACKOFF_SECONDS: '1,2', PRESSLUFT_POLL_INTERVAL_MS: '100' })
    const { job_id } = await (await cp.request('POST', `/api/environments/${site.productionId}/cache/purge`)).json()
    const waits: number[] = []
    const original = cp.services.jobQueue.fail.bind(cp.services.jobQueue)
    cp.services.jobQueue.fail = async (...args: Parameters<typeof original>) => {
      const applied = await original(...args)
      const job = await row<{ run_after: string; updated_at: string }>(cp, 'SELECT run_after, updated_at FROM jobs WHERE id = ?', [job_id])
      waits.push(Date.parse(job.run_after) - Date.parse(job.updated_at))
      return applied
    }
    const started = Date.now()
    await cp.scheduler!.start()
    expect(await waitForJob(cp, job_id, 15_000)).toMatchObject({ status: 'succeeded', attempt_count: 3 })
    expect(waits).toEqual([1000, 2000])
    expect(Date.now() - started).toBeGreaterThanOrEqual(3000)
    expect(runner.seen.filter((j) => j.id === job_id)).toHaveLength(3)
  })

  it('returns pre-existing resources to active when the playbook reports a precondition failure', async () => {
    const runner = scriptedRunner(() => ({ ok: false, code: 'PRE_OPERATION_BACKUP_FAILED', message: 'PRESSLUFT_ERROR=PRE_OPERATION_BACKUP_FAILED' }))
    const { cp, site } = await plane(runner)
    await configureBackupStorage(cp)
    await cp.services.db.execute({ sql: `INSERT INTO backups (id, environment_id, backup_scope, status, storage_type, storage_path, retention_until, checksum, size_bytes, created_at, completed_at)
      VALUES (?, ?, 'full', 'completed', 's3', 's3://b/p/', ?, 'sha256:00', 1, ?, ?)`, args: [crypto.randomUUID(), site.productionId, new Date(Date.now() + 86400_000).toISOString(), new Date().toISOString(), new Date().toISOString()] })
    const { job_id } = await (await cp.request('POST', `/api/environments/${site.productionId}/updates`, { scope: 'core' })).json()
    await cp.scheduler!.start()
    expect(await waitForJob(cp, job_id, 10_000)).toMatchObject({ status: 'failed', attempt_count: 1, error_code: 'PRE_OPERATION_BACKUP_FAILED' })
    expect(await status('sites', site.siteId)).toBe('active')
    expect(await status('environments', site.productionId)).toBe('active')
  })

  it('runs at most maxConcurrentJobs runners at once', async () => {
    let active = 0
    let peak = 0
    const release: (() => void)[] = []
    const runner = scriptedRunner(async () => {
      active++
      peak = Math.max(peak, active)
      await new Promise<void>((resolve) => release.push(resolve))
      active--
      return ok()
    })
    const { cp } = await plane(runner, {}, 2)
    const ids: string[] = []
    for (let i = 0; i < 5; i++) {
      const node = await insertActiveNode(cp, { name: `n-${i}` })
      const s = await createActiveSite(cp, `par-${i}`, node)
      ids.push((await (await cp.request('POST', `/api/environments/${s.productionId}/cache/purge`)).json()).job_id)
    }
    await cp.scheduler!.start()
    while (ids.length && runner.seen.length < 5) {
      await until(() => release.length > 0, 5000, 'a running job')
      await new Promise((r) => setTimeout(r, 50))
      expect(active).toBeLessThanOrEqual(2)
      release.shift()!()
    }
    while (release.length) release.shift()!()
    await cp.scheduler!.waitForIdle()
    expect(peak).toBe(2)
    expect(await count(cp, 'jobs', "job_type = 'cache_purge' AND status = 'succeeded'")).toBe(5)
  })

  it('recovers at start-up: requeues a lost attempt with WORKER_LOST, fails one without attempts left, kills its playbook and removes run dirs', async () => {
    const runner = scriptedRunner(() => ok())
    const { cp, site, nodeId } = await plane(runner, { PRESSLUFT_POLL_INTERVAL_MS: '60000' })
    const lost = crypto.randomUUID()
    const created = await (await cp.request('POST', '/api/sites', { name: 'Beta', slug: 'beta', node_id: nodeId })).json()
    const beta = await row<{ id: string; primary_environment_id: string }>(cp, "SELECT * FROM sites WHERE slug = 'beta'")
    const deadWorker = `${os.hostname()}:999999`
    const lockedAt = new Date().toISOString()
    await cp.services.db.batch([
      { sql: `INSERT INTO jobs (id, job_type, status, site_id, environment_id, node_id, payload_json, attempt_count, max_attempts, locked_at, locked_by, started_at, created_at, updated_at)
        VALUES (?, 'cache_purge', 'running', ?, ?, ?, '{}', 1, 3, ?, ?, ?, ?, ?)`, args: [lost, site.siteId, site.productionId, nodeId, lockedAt, deadWorker, lockedAt, lockedAt, lockedAt] },
      { sql: `UPDATE jobs SET status = 'running', attempt_count = 3, locked_at = ?, locked_by = ?, started_at = ? WHERE id = ?`, args: [lockedAt, deadWorker, lockedAt, created.job_id] },
    ], 'write')
    // A leftover playbook of the lost attempt (argv[0] ansible-playbook, its own process group) and an orphaned run dir.
    const leftover = execa('bash', ['-c', 'exec -a ansible-playbook sleep 789'], { detached: true, reject: false })
    await until(() => { try { return fs.readFileSync(`/proc/${leftover.pid}/cmdline`, 'utf8').startsWith('ansible-playbook') } catch { return false } }, 5000, 'the fake playbook')
    const lostDir = runDirFor(cp.config.dataDir, lost, 1).dir
    fs.mkdirSync(lostDir, { recursive: true })
    fs.writeFileSync(path.join(lostDir, 'pid'), String(leftover.pid))
    const orphan = runDirFor(cp.config.dataDir, crypto.randomUUID(), 2).dir
    fs.mkdirSync(orphan, { recursive: true })

    await cp.scheduler!.start()
    const result = await Promise.race([leftover, new Promise<{ signal: string }>((resolve) => setTimeout(() => { leftover.kill('SIGKILL'); resolve({ signal: 'still running' }) }, 5000))])
    expect(result.signal).toBe('SIGKILL')
    expect(fs.readdirSync(runRoot(cp.config.dataDir)).filter((d) => d !== `${lost}-2`)).toEqual([])
    const requeued = await row<{ status: string; error_code: string; run_after: string | null; attempt_count: number }>(cp, 'SELECT * FROM jobs WHERE id = ?', [lost])
    expect(requeued).toMatchObject({ status: 'queued', error_code: 'WORKER_LOST', attempt_count: 1 })
    expect(Date.parse(requeued.run_after!)).toBeGreaterThan(Date.now() + 50_000)
    expect(await waitForJob(cp, created.job_id, 5000)).toMatchObject({ status: 'failed', error_code: 'WORKER_LOST', attempt_count: 3 })
    expect(await status('sites', beta.id)).toBe('failed')
    expect(await status('environments', beta.primary_environment_id)).toBe('failed')
    expect((await auditsFor(cp, 'site_create')).filter((a) => a.job_id === created.job_id).map((a) => a.result)).toEqual(['accepted', 'failed'])
  })

  it('on shutdown stops claiming and leaves a job still running for recovery at the next start', async () => {
    // Like the real runner: it returns once its playbook was killed.
    const runner = scriptedRunner((_job, signal) => new Promise<JobOutcome>((resolve) => {
      signal.addEventListener('abort', () => resolve({ ok: false, code: 'JOB_CANCELLED', message: 'killed' }))
    }))
    const { cp, site } = await plane(runner)
    const { job_id } = await (await cp.request('POST', `/api/environments/${site.productionId}/cache/purge`)).json()
    await cp.scheduler!.start()
    await until(() => runner.seen.length === 1, 5000, 'the job to start')
    await cp.scheduler!.stop(200)
    // The runner was aborted and returned, but at shutdown nothing is written: recovery at the next start decides.
    expect(await row(cp, 'SELECT status, attempt_count FROM jobs WHERE id = ?', [job_id])).toEqual({ status: 'running', attempt_count: 1 })
  })

  it('enqueues backup_cleanup every 6 h and daily drift checks for non-production environments, without duplicates', async () => {
    const runner = scriptedRunner(() => ok())
    const { cp, site } = await plane(runner)
    const now = new Date()
    expect(await cp.services.jobs.enqueueBackupCleanupIfDue(now)).toEqual([])
    await configureBackupStorage(cp)
    const first = await cp.services.jobs.enqueueBackupCleanupIfDue(now)
    expect(first).toHaveLength(1)
    expect(await cp.services.jobs.enqueueBackupCleanupIfDue(now)).toEqual([])
    await cp.services.db.execute({ sql: "UPDATE jobs SET status = 'succeeded' WHERE id = ?", args: first })
    expect(await cp.services.jobs.enqueueBackupCleanupIfDue(new Date(now.getTime() + 5 * 3600_000))).toEqual([])
    expect(await cp.services.jobs.enqueueBackupCleanupIfDue(new Date(now.getTime() + 7 * 3600_000))).toHaveLength(1)
    const [cleanup] = await jobsOfType(cp, 'backup_cleanup')
    expect(cleanup).toMatchObject({ site_id: null, environment_id: null, node_id: site.nodeId, requested_by: null })

    expect(await cp.services.jobs.enqueueDriftChecksIfDue(now)).toEqual([])
    const staging = await createActiveStaging(cp, site)
    const drift = await cp.services.jobs.enqueueDriftChecksIfDue(now)
    expect(drift).toHaveLength(1)
    expect(await cp.services.jobs.enqueueDriftChecksIfDue(now)).toEqual([])
    expect(await row(cp, 'SELECT environment_id, payload_json, requested_by FROM jobs WHERE id = ?', drift))
      .toEqual({ environment_id: staging, payload_json: '{"trigger":"schedule"}', requested_by: null })
  })

  it('enqueues no job and registers no node when the scheduler starts on a fresh control plane', async () => {
    const runner = scriptedRunner(() => ok())
    cp = await createTestControlPlane({ PRESSLUFT_POLL_INTERVAL_MS: '100' }, { jobRunner: runner, startScheduler: true })
    await new Promise((r) => setTimeout(r, 500))
    expect(await count(cp, 'jobs')).toBe(0)
    expect(await count(cp, 'nodes')).toBe(0)
    expect(runner.seen).toEqual([])
  })
})
