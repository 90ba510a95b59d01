// WordPress updates without WP-CLI through the API on the run's lab node: core 6.1 (Debian 12) → 6.8.x (Debian trixie)
// and a test plugin v1 → v2 from the lab's update source; a plugin update that fatals is rolled back by itself, files and
// database (from the pre-update backup). A bounded request loop watches every switch.
import fs from 'node:fs'
import http from 'node:http'
import os from 'node:os'
import path from 'node:path'
import { execa } from 'execa'
import { describe, it, expect, beforeAll, afterAll } from 'vitest'
import { labExec, labStatus } from '../lab/lab.js'
import { buildCorePackage, buildPlugin, offerCore, offerPlugins, updateSource, type UpdateSource } from '../lab/wp-updates.js'
import { instancePaths } from '../lab/paths.js'
import { openE2e, createSite, configureLabS3, type E2e, type CreatedSite } from '../support/e2e.js'
import { waitForJob, type JobView } from '../support/jobs.js'
import { queryOne } from '../../runtime/store/db.js'

// Unique per run, so a kept lab (PRESSLUFT_E2E_KEEP_LAB) can run the file again.
const SLUG = `updates-${Date.now().toString(36)}`
const PLUGIN = 'pl-update-test'
const timings: Record<string, number> = {}

interface Answer { at: number; status: number; plugin: string | null; generator: string | null }

function get(ip: string, host: string, urlPath: string): Promise<Answer> {
  const at = Date.now()
  return new Promise((resolve) => {
    const req = http.request({ host: ip, port: 80, path: urlPath, headers: { host }, timeout: 20_000, agent: false }, (res) => {
      let body = ''
      res.on('data', (d) => { body += d })
      res.on('end', () => resolve({
        at, status: res.statusCode ?? 0, plugin: (res.headers['x-update-test'] as string | undefined) ?? null,
        generator: /<meta name="generator" content="WordPress ([0-9.]+)"/.exec(body)?.[1] ?? null,
      }))
    })
    req.on('error', () => resolve({ at, status: 0, plugin: null, generator: null }))
    req.on('timeout', () => req.destroy(new Error('timeout')))
    req.end()
  })
}

/** ≤ 20 requests/s in total (2 workers, ≥ 100 ms apart), cache-busting, lab address only; stops by itself after maxSeconds. */
function requestLoop(ip: string, host: string, maxSeconds = 600) {
  const answers: Answer[] = []
  const deadline = Date.now() + maxSeconds * 1000
  let stopped = false
  let n = 0
  const worker = async () => {
    while (!stopped && Date.now() < deadline) {
      const started = Date.now()
      answers.push(await get(ip, host, `/?pl_loop=${n++}`))
      await new Promise((r) => setTimeout(r, Math.max(0, 100 - (Date.now() - started))))
    }
  }
  const running = Promise.all([worker(), worker()])
  return { async stop(): Promise<Answer[]> { stopped = true; await running; return answers } }
}

async function followUp(e2e: E2e, parentId: string, jobType: string): Promise<JobView & { started_at: string; finished_at: string }> {
  const deadline = Date.now() + 900_000
  for (;;) {
    const row = await queryOne<{ id: string }>(e2e.cp.services.db, 'SELECT id FROM jobs WHERE parent_job_id = ? AND job_type = ? ORDER BY created_at DESC LIMIT 1', [parentId, jobType])
    if (row) return await waitForJob(e2e.cp, row.id, 900_000) as JobView & { started_at: string; finished_at: string }
    if (Date.now() > deadline) throw new Error(`no ${jobType} follow-up of ${parentId}`)
    await new Promise((r) => setTimeout(r, 500))
  }
}

describe('updates through WordPress\'s own upgraders, with automatic rollback of files and database', () => {
  let e2e: E2e
  let site: CreatedSite
  let ip: string
  let source: UpdateSource
  let coreVersion: string
  let work: string

  const db = async (sql: string) => (await labExec(e2e.node.name, ['mariadb', '-N', '-e', sql], { instance: e2e.instance })).stdout.trim()
  const dbName = () => `wp_${site.envId.slice(0, 8)}`

  async function update(scope: string) {
    const loop = requestLoop(ip, site.previewHost)
    const started = Date.now()
    const res = await e2e.cp.request('POST', `/api/environments/${site.envId}/updates`, { scope })
    expect(res.status).toBe(202)
    const jobId = (await res.json()).job_id as string
    const job = await waitForJob(e2e.cp, jobId, 900_000) as JobView & { finished_at: string; payload?: unknown }
    return { loop, job, jobId, started }
  }

  beforeAll(async () => {
    const lab = labStatus({ instance: process.env.PRESSLUFT_E2E_LAB ?? 'e2e' })
    source = updateSource(lab.git)
    e2e = await openE2e({ PRESSLUFT_WP_UPDATE_SOURCE: source.base })
    ip = e2e.node.ip
    // Core 6.8.x from Debian trixie, cached across runs of this instance (fetched through the lab apt proxy).
    coreVersion = await buildCorePackage(source, path.join(instancePaths(e2e.instance).dir, 'wp-core-cache'))
    site = await createSite(e2e, { slug: SLUG, name: 'Updates E2E' })
    await configureLabS3(e2e)

    // The test plugin v1, loaded on every request by a must-use loader (so it runs without an activation step), deployed
    // like any code change.
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'pressluft-updates-e2e-'))
    const tree = path.join(work, 'v1')
    fs.mkdirSync(path.join(tree, 'wp-content/mu-plugins'), { recursive: true })
    fs.mkdirSync(path.join(tree, 'wp-content/plugins', PLUGIN), { recursive: true })
    fs.writeFileSync(path.join(tree, 'wp-content/mu-plugins/pl-update-loader.php'),
      `<?php\nif (is_file(WP_PLUGIN_DIR . '/${PLUGIN}/${PLUGIN}.php')) { include WP_PLUGIN_DIR . '/${PLUGIN}/${PLUGIN}.php'; }\n`)
    fs.writeFileSync(path.join(tree, 'wp-content/plugins', PLUGIN, `${PLUGIN}.php`),
      `<?php\n/*\n * Plugin Name: ${PLUGIN}\n * Version: 1.0.0\n */\nadd_action('send_headers', function () { header('X-Update-Test: 1.0.0'); });\n`)
    const archive = path.join(lab.git.dir, 'files', `${SLUG}-v1.tar.gz`)
    await execa('tar', ['-czf', archive, '-C', tree, 'wp-content'])
    // The lab git server sits on the lab gateway (198.18.0.0/15): a deploy source there needs the operator's allow-list.
    expect((await e2e.cp.request('PATCH', '/_admin/settings', { import_allowed_sources: new URL(lab.git.url).hostname })).status).toBe(200)
    const res = await e2e.cp.request('POST', `/api/environments/${site.envId}/deploy`, { source_type: 'upload', source_ref: `${lab.git.url}files/${SLUG}-v1.tar.gz` })
    expect(res.status).toBe(202)
    const deploy = await waitForJob(e2e.cp, (await res.json()).job_id)
    if (deploy.status !== 'succeeded') throw new Error(`deploy of plugin v1 ${deploy.status}: ${deploy.error_message}`)
    expect((await followUp(e2e, deploy.id, 'health_check')).status).toBe('succeeded')
  })

  afterAll(async () => {
    console.log(`updates e2e timings (s): ${JSON.stringify(timings)}`)
    if (work) fs.rmSync(work, { recursive: true, force: true })
    await e2e?.close()
  })

  it(`updates core from the node's 6.1 to 6.8.x and the test plugin from v1 to v2 (pre-update backup, DB upgrade, health check), zero 5xx`, async () => {
    const before = await get(ip, site.previewHost, '/')
    expect(before).toMatchObject({ status: 200, plugin: '1.0.0' })
    expect(before.generator).toMatch(/^6\.1\./)
    offerCore(source, coreVersion)
    offerPlugins(source, { [PLUGIN]: { version: '2.0.0', package: await buildPlugin(source, PLUGIN, '2.0.0', "add_action('send_headers', function () { header('X-Update-Test: 2.0.0'); });") } })
    const dbVersionBefore = await db(`SELECT option_value FROM ${dbName()}.wp_options WHERE option_name = 'db_version'`)

    const { loop, job, started } = await update('all')
    expect(job.error_message ?? '').toBe('')
    expect(job.status).toBe('succeeded')
    timings.update_all_202_to_job_succeeded = (Date.parse(job.finished_at) - started) / 1000
    const backupJob = await queryOne<{ status: string }>(e2e.cp.services.db,
      "SELECT status FROM jobs WHERE job_type = 'backup_create' AND environment_id = ? AND json_extract(payload_json, '$.purpose') = 'pre_update'", [site.envId])
    expect(backupJob?.status).toBe('succeeded')
    expect((await followUp(e2e, job.id, 'health_check')).status).toBe('succeeded')
    const answers = await loop.stop()

    const after = await get(ip, site.previewHost, '/')
    expect(after).toMatchObject({ status: 200, plugin: '2.0.0', generator: coreVersion })
    const dbVersionAfter = await db(`SELECT option_value FROM ${dbName()}.wp_options WHERE option_name = 'db_version'`)
    expect(Number(dbVersionAfter)).toBeGreaterThan(Number(dbVersionBefore))
    expect(answers.filter((a) => a.status >= 500 || a.status === 0)).toEqual([])
    expect(answers.filter((a) => a.at > Date.parse(job.finished_at) && (a.plugin !== '2.0.0' || a.generator !== coreVersion))).toEqual([])
    const releases = (await (await e2e.cp.request('GET', `/api/environments/${site.envId}/releases`)).json()).items
    expect(releases[0]).toMatchObject({ source_ref: 'updates:all', health_status: 'healthy', is_current: true })
  })

  it('rolls back files and database by itself when a plugin update fatals on the front end', async () => {
    // A fresh full backup after the core update, so the pre-update backup the update reuses is this one.
    const backup = await e2e.cp.request('POST', `/api/environments/${site.envId}/backups`, { backup_scope: 'full' })
    expect(backup.status).toBe(202)
    expect((await waitForJob(e2e.cp, (await backup.json()).job_id, 900_000)).status).toBe('succeeded')

    offerCore(source, null)
    // v3 writes to the database on every web request, then dies: the rollback must undo both.
    offerPlugins(source, { [PLUGIN]: { version: '3.0.0', package: await buildPlugin(source, PLUGIN, '3.0.0',
      "if (PHP_SAPI !== 'cli') { update_option('pl_update_v3_was_here', 'yes'); pl_update_test_undefined_function(); }") } })
    const { loop, job } = await update('plugins')
    expect(job.error_message ?? '').toBe('')
    expect(job.status).toBe('succeeded')
    const health = await followUp(e2e, job.id, 'health_check')
    expect(health).toMatchObject({ status: 'failed', error_code: 'HEALTH_CHECK_FAILED' })
    const rollback = await followUp(e2e, health.id, 'release_rollback')
    expect(rollback.error_message ?? '').toBe('')
    expect(rollback.status).toBe('succeeded')
    const answers = await loop.stop()
    timings.update_rollback_start_to_finished = (Date.parse(rollback.finished_at) - Date.parse(rollback.started_at)) / 1000

    expect(await get(ip, site.previewHost, '/')).toMatchObject({ status: 200, plugin: '2.0.0', generator: coreVersion })
    // The option v3 wrote while it was live is gone: the database came back from the pre-update backup.
    expect(await db(`SELECT COUNT(*) FROM ${dbName()}.wp_options WHERE option_name = 'pl_update_v3_was_here'`)).toBe('0')
    expect(answers.filter((a) => a.status >= 500 && a.status !== 500)).toEqual([])
    expect(answers.filter((a) => a.at > Date.parse(rollback.finished_at) && (a.status !== 200 || a.plugin !== '2.0.0'))).toEqual([])
    const releases = (await (await e2e.cp.request('GET', `/api/environments/${site.envId}/releases`)).json()).items
    expect(releases[0]).toMatchObject({ source_ref: 'updates:plugins', health_status: 'unhealthy', is_current: false })
    const env = await (await e2e.cp.request('GET', `/api/environments/${site.envId}`)).json()
    expect(env.status).toBe('active')
  })
})
