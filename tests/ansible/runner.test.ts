import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { describe, it, expect, beforeAll, afterAll } from 'vitest'
import { engineHarness, processesMatching, until, type EngineHarness } from './engine-support.js'
import { waitForJob } from '../support/jobs.js'
import { configureBackupStorage, BACKUP_SETTINGS, row } from '../support/seed.js'
import { insertJob } from '../../runtime/store/jobs-insert.js'
import { runRoot } from '../../runtime/ansible/run-dir.js'

interface JobState { status: string; attempt_count: number; error_code: string | null; error_message: string | null; run_after: string | null; finished_at: string | null }

async function enqueue(h: EngineHarness, type: string, payload: Record<string, unknown> = {}, maxAttempts = 3): Promise<string> {
  const id = await insertJob(h.cp.services.db, {
    job_type: type, site_id: h.site.siteId, environment_id: h.site.productionId, node_id: h.site.nodeId, payload, requested_by: null, max_attempts: maxAttempts,
  })
  h.cp.services.jobControl.wake()
  return id
}

async function jobState(h: EngineHarness, id: string): Promise<JobState> {
  return row<JobState>(h.cp, 'SELECT status, attempt_count, error_code, error_message, run_after, finished_at FROM jobs WHERE id = ?', [id])
}

/** Waits until the attempt finished: terminal, or requeued after its first attempt. */
async function settled(h: EngineHarness, id: string, timeoutMs = 60_000): Promise<JobState> {
  let state = await jobState(h, id)
  await until(async () => { state = await jobState(h, id); return state.status !== 'running' && state.attempt_count > 0 && (state.status !== 'queued' || state.error_code !== null) }, timeoutMs, `job ${id}`)
  await h.cp.scheduler!.waitForIdle()
  return state
}

function runDirs(h: EngineHarness): string[] {
  const root = runRoot(h.cp.config.dataDir)
  return fs.existsSync(root) ? fs.readdirSync(root) : []
}

describe('ansible runner against localhost', () => {
  let h: EngineHarness
  beforeAll(async () => {
    h = await engineHarness()
    await h.cp.scheduler!.start()
  })
  afterAll(async () => { await h.close() })

  it('runs a playbook to success, streams its output to the log with the job id, and removes the run directory', async () => {
    h.use('cache-purge.yml', 'success.yml')
    const id = await enqueue(h, 'cache_purge')
    const job = await waitForJob(h.cp, id, 60_000)
    expect(job).toMatchObject({ status: 'succeeded', attempt_count: 1, error_code: null, error_message: null })
    const lines = h.cp.logLines.filter((l) => l.includes(id) && l.includes(`fixture ran job ${id} of type cache_purge`))
    expect(lines.length).toBeGreaterThan(0)
    expect(JSON.parse(lines[0])).toMatchObject({ job_id: id, job_type: 'cache_purge', msg: 'ansible' })
    expect(runDirs(h)).toEqual([])
  })

  it.each([
    ['host-failed.yml', 'ANSIBLE_HOST_FAILED', 'something broke on the host'],
    ['play-error.yml', 'ANSIBLE_PLAY_ERROR', 'does-not-exist.yml'],
  ])('requeues a retryable failure (%s → %s) and backs off 1 minute, keeping the output tail', async (fixture, code, text) => {
    h.use('cache-purge.yml', fixture)
    const before = Date.now()
    const id = await enqueue(h, 'cache_purge')
    const state = await settled(h, id)
    expect(state).toMatchObject({ status: 'queued', attempt_count: 1, error_code: code, finished_at: null })
    expect(state.error_message).toContain(text)
    const delay = Date.parse(state.run_after!) - before
    expect(delay).toBeGreaterThan(55_000)
    expect(delay).toBeLessThan(65_000 + 60_000)
    await h.cp.request('POST', `/api/jobs/${id}/cancel`)
  })

  it.each([
    ['syntax-error.yml', 'ANSIBLE_SYNTAX_ERROR'],
    ['marker.yml', 'DNS_MISMATCH'],
  ])('fails a non-retryable outcome (%s → %s) on the first attempt', async (fixture, code) => {
    h.use('cache-purge.yml', fixture)
    const id = await enqueue(h, 'cache_purge')
    const state = await settled(h, id)
    expect(state).toMatchObject({ status: 'failed', attempt_count: 1, error_code: code })
    expect(state.finished_at).not.toBeNull()
    if (code === 'DNS_MISMATCH') expect(state.error_message).toContain('PRESSLUFT_ERROR=DNS_MISMATCH')
  })

  it('maps exit 4 with UNREACHABLE! to ANSIBLE_HOST_UNREACHABLE and, on the final attempt, marks the node unreachable', async () => {
    const closed = await new Promise<number>((resolve) => {
      import('node:net').then((net) => { const s = net.createServer().listen(0, '127.0.0.1', () => { const p = (s.address() as { port: number }).port; s.close(() => resolve(p)) }) })
    })
    const { cp } = h
    await cp.services.db.execute({ sql: 'UPDATE nodes SET ssh_port = ? WHERE id = ?', args: [closed, h.site.nodeId] })
    h.use('cache-purge.yml', 'unreachable.yml')
    const id = await enqueue(h, 'cache_purge', {}, 1)
    const state = await settled(h, id)
    expect(state).toMatchObject({ status: 'failed', error_code: 'ANSIBLE_HOST_UNREACHABLE' })
    expect(state.error_message).toContain('UNREACHABLE!')
    expect((await row<{ status: string }>(cp, 'SELECT status FROM nodes WHERE id = ?', [h.site.nodeId])).status).toBe('unreachable')
    await cp.services.db.execute({ sql: "UPDATE nodes SET ssh_port = 22, status = 'active' WHERE id = ?", args: [h.site.nodeId] })
  })

  it('writes inventory.ini and a flat vars.json (0600) into a 0700 run directory and deletes them afterwards', async () => {
    const capture = fs.mkdtempSync(path.join(os.tmpdir(), 'pressluft-capture-'))
    h.use('cache-purge.yml', 'capture.yml')
    const prev = process.env.CAPTURE_DIR
    // The runner passes ansible.extraEnv; this harness has none, so the inherited environment carries CAPTURE_DIR.
    process.env.CAPTURE_DIR = capture
    try {
      const id = await enqueue(h, 'cache_purge')
      expect((await waitForJob(h.cp, id, 60_000)).status).toBe('succeeded')
      const runDir = fs.readFileSync(path.join(capture, 'run_dir'), 'utf8')
      expect(runDir).toBe(path.join(runRoot(h.cp.config.dataDir), `${id}-1`))
      expect(fs.existsSync(runDir)).toBe(false)
      expect(fs.readFileSync(path.join(capture, 'inventory.ini'), 'utf8')).toBe(
        `[target]\nnode ansible_host=127.0.0.1 ansible_port=22 ansible_user=root ansible_ssh_private_key_file=${runDir}/id_ed25519 ansible_python_interpreter=/usr/bin/python3\n`)
      expect(JSON.parse(fs.readFileSync(path.join(capture, 'modes.json'), 'utf8'))).toEqual({ '.': '0700', 'inventory.ini': '0600', 'vars.json': '0600', id_ed25519: '0600' })
      const vars = JSON.parse(fs.readFileSync(path.join(capture, 'vars.json'), 'utf8')) as Record<string, unknown>
      for (const [key, value] of Object.entries(vars)) {
        const scalars = Array.isArray(value) ? value : [value]
        expect(scalars.every((v) => v === null || ['string', 'number', 'boolean'].includes(typeof v)), key).toBe(true)
      }
      const env = await row<{ id: string; site_id: string; preview_url: string }>(h.cp, 'SELECT id, site_id, preview_url FROM environments WHERE id = ?', [h.site.productionId])
      const uuid8 = env.id.slice(0, 8)
      expect(vars).toMatchObject({
        job_id: id, job_type: 'cache_purge', node_id: h.site.nodeId, node_hostname: '127.0.0.1', node_public_ip: '127.0.0.1', node_ssh_user: 'root',
        node_is_local: false, pressluft_result_path: `${runDir}/result.json`, site_id: env.site_id, environment_id: env.id,
        environment_slug: 'production', environment_type: 'production', env_uuid8: uuid8, env_user: `wp_${uuid8}`,
        env_root: `/var/www/sites/${env.site_id}/production`, env_db_name: `wp_${uuid8}`, env_db_user: `wp_${uuid8}`,
        php_fpm_socket: `/run/php/pressluft-${uuid8}.sock`, preview_url: env.preview_url, preview_host: new URL(env.preview_url).hostname,
        canonical_url: env.preview_url, primary_domain_hostname: '' /* unset values travel as '' */, fastcgi_cache_enabled: true, redis_cache_enabled: true,
        redis_prefix: `pressluft_${env.id}:`,
      })
      // Per-environment secrets are generated on first use and stored only in the secrets store.
      expect(vars.env_db_password).toBe(await h.cp.services.secrets.get(`env/${env.id}/db_password`))
      expect(String(vars.env_db_password)).toMatch(/^[A-Za-z0-9]{32}$/)
      expect(typeof vars.env_wp_salts).toBe('string')
    } finally {
      if (prev === undefined) delete process.env.CAPTURE_DIR; else process.env.CAPTURE_DIR = prev
      fs.rmSync(capture, { recursive: true, force: true })
    }
  })

  it('replaces secret values in logged output and in error_message', async () => {
    await configureBackupStorage(h.cp)
    h.use('cache-purge.yml', 'leak-secret.yml')
    const id = await enqueue(h, 'cache_purge')
    // cache_purge has no storage vars; the secret that leaks here is the env DB password.
    const state = await settled(h, id)
    const password = (await h.cp.services.secrets.get(`env/${h.site.productionId}/db_password`))!
    expect(state.error_code).toBe('ANSIBLE_HOST_FAILED')
    expect(state.error_message).not.toContain(password)
    const logged = h.cp.logLines.filter((l) => l.includes(id))
    expect(logged.some((l) => l.includes('db password is [REDACTED]'))).toBe(true)
    expect(logged.some((l) => l.includes(password))).toBe(false)
    await h.cp.request('POST', `/api/jobs/${id}/cancel`)

    h.use('backup-create.yml', 'leak-secret.yml')
    const res = await h.cp.request('POST', `/api/environments/${h.site.productionId}/backups`, { backup_scope: 'db' })
    expect(res.status).toBe(202)
    const backupJob = (await res.json()).job_id as string
    const failed = await settled(h, backupJob)
    expect(failed.error_message).toContain('upload failed with key [REDACTED]')
    expect(failed.error_message).not.toContain(BACKUP_SETTINGS.backup_s3_secret_access_key)
    expect(h.cp.logLines.some((l) => l.includes(BACKUP_SETTINGS.backup_s3_secret_access_key))).toBe(false)
    // The retry put the backup back to pending; cancelling fails it.
    expect((await row<{ status: string }>(h.cp, "SELECT b.status FROM backups b JOIN jobs j ON json_extract(j.payload_json, '$.backup_id') = b.id WHERE j.id = ?", [backupJob])).status).toBe('pending')
    await h.cp.request('POST', `/api/jobs/${backupJob}/cancel`)
    expect((await row<{ status: string }>(h.cp, "SELECT b.status FROM backups b JOIN jobs j ON json_extract(j.payload_json, '$.backup_id') = b.id WHERE j.id = ?", [backupJob])).status).toBe('failed')
  })

  it('reads the result file of a data-returning playbook; a malformed one is INVALID_PLAYBOOK_RESULT', async () => {
    h.use('backup-create.yml', 'result.yml')
    const ok = await h.cp.request('POST', `/api/environments/${h.site.productionId}/backups`, { backup_scope: 'full' })
    const okJob = (await ok.json()).job_id as string
    expect((await waitForJob(h.cp, okJob, 60_000)).status).toBe('succeeded')
    const backup = await row<{ status: string; checksum: string; size_bytes: number; completed_at: string | null }>(h.cp,
      "SELECT b.* FROM backups b JOIN jobs j ON json_extract(j.payload_json, '$.backup_id') = b.id WHERE j.id = ?", [okJob])
    expect(backup).toMatchObject({ status: 'completed', checksum: `sha256:${'a'.repeat(64)}`, size_bytes: 4096 })
    expect(backup.completed_at).not.toBeNull()

    h.use('backup-create.yml', 'bad-result.yml')
    const bad = await h.cp.request('POST', `/api/environments/${h.site.productionId}/backups`, { backup_scope: 'full' })
    const badJob = (await bad.json()).job_id as string
    const job = await waitForJob(h.cp, badJob, 60_000)
    expect(job).toMatchObject({ status: 'failed', error_code: 'INVALID_PLAYBOOK_RESULT' })
    expect((await row<{ status: string }>(h.cp, "SELECT b.status FROM backups b JOIN jobs j ON json_extract(j.payload_json, '$.backup_id') = b.id WHERE j.id = ?", [badJob])).status).toBe('failed')
  })

  it('fails a job whose playbook file is missing from the playbooks directory with INTERNAL_ERROR, without retrying and without running anything', async () => {
    // The harness's playbooks directory holds only the fixtures a test installed; env-cache-toggle.yml is not among them.
    expect(fs.existsSync(path.join(h.playbooksDir, 'env-cache-toggle.yml'))).toBe(false)
    const id = await enqueue(h, 'env_cache_toggle', { fastcgi_cache_enabled: false })
    const job = await waitForJob(h.cp, id, 30_000)
    expect(job).toMatchObject({ status: 'failed', attempt_count: 1, error_code: 'INTERNAL_ERROR', error_message: `playbook env-cache-toggle.yml does not exist in ${h.playbooksDir}` })
    expect((await row<{ fastcgi_cache_enabled: number }>(h.cp, 'SELECT fastcgi_cache_enabled FROM environments WHERE id = ?', [h.site.productionId])).fastcgi_cache_enabled).toBe(1)
  })
})

describe('stopping a running playbook', () => {
  let h: EngineHarness
  afterAll(async () => { await h?.close() })

  it('kills the whole process tree when the job timeout expires (ANSIBLE_TIMEOUT, retried) and leaves no process behind', async () => {
    // Long enough for ansible to reach the sleep task on a loaded machine; the sleep itself would last 10 minutes.
    h = await engineHarness({ PRESSLUFT_JOB_TIMEOUT_SECONDS: '12' }, { extraEnv: { FIXTURE_SLEEP_SECONDS: '777' } })
    await h.cp.scheduler!.start()
    h.use('cache-purge.yml', 'sleep.yml')
    const id = await enqueue(h, 'cache_purge')
    await until(() => processesMatching('sleep 777').length > 0, 12_000, 'the sleep task')
    const state = await settled(h, id, 40_000)
    expect(state).toMatchObject({ status: 'queued', attempt_count: 1, error_code: 'ANSIBLE_TIMEOUT' })
    expect(processesMatching('sleep 777')).toEqual([])
    expect(processesMatching(id)).toEqual([])
    expect(runDirs(h)).toEqual([])
  })

  it('cancels a running playbook: SIGTERM to its process group, job cancelled, run dir removed, completion is a no-op', async () => {
    await h.close()
    h = await engineHarness({}, { extraEnv: { FIXTURE_SLEEP_SECONDS: '778' } })
    await h.cp.scheduler!.start()
    h.use('cache-purge.yml', 'sleep.yml')
    const res = await h.cp.request('POST', `/api/environments/${h.site.productionId}/cache/purge`)
    const id = (await res.json()).job_id as string
    await until(() => processesMatching('sleep 778').length > 0, 30_000, 'the sleep task')
    expect((await jobState(h, id)).status).toBe('running')
    const cancel = await h.cp.request('POST', `/api/jobs/${id}/cancel`)
    expect(cancel.status).toBe(200)
    expect(await cancel.json()).toEqual({ success: true, status: 'cancelled' })
    await until(() => processesMatching('sleep 778').length === 0 && processesMatching(id).length === 0, 10_000, 'the playbook to stop')
    await h.cp.scheduler!.waitForIdle()
    expect(await jobState(h, id)).toMatchObject({ status: 'cancelled', error_code: 'JOB_CANCELLED', attempt_count: 1 })
    expect(runDirs(h)).toEqual([])
    expect(h.cp.logLines.some((l) => l.includes(id) && l.includes('nothing written'))).toBe(true)
    const again = await h.cp.request('POST', `/api/jobs/${id}/cancel`)
    expect(again.status).toBe(409)
    expect((await again.json()).code).toBe('job_not_cancellable')
  })
})

describe('a control plane without ansible-playbook', () => {
  it('fails the job with INTERNAL_ERROR naming the missing command, without retrying', async () => {
    const h = await engineHarness({}, { extraEnv: { PATH: '/nonexistent' } })
    try {
      await h.cp.scheduler!.start()
      h.use('cache-purge.yml', 'success.yml')
      const id = await enqueue(h, 'cache_purge')
      const job = await waitForJob(h.cp, id, 30_000)
      expect(job).toMatchObject({ status: 'failed', attempt_count: 1, error_code: 'INTERNAL_ERROR' })
      expect(job.error_message).toContain('could not start ansible-playbook')
      expect(runDirs(h)).toEqual([])
    } finally {
      await h.close()
    }
  })
})
