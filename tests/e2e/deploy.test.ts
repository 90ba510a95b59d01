// Deploys, health checks and rollbacks through the API on the run's lab node: v1 from git, v2 from an archive in the
// backup storage, v3 (fatal mu-plugin) rolled back by itself, an operator rollback, a refused rollback, a redelivery.
// During every switch a bounded request loop watches the site for 5xx answers and for answers from the old release.
import fs from 'node:fs'
import http from 'node:http'
import os from 'node:os'
import path from 'node:path'
import { execa } from 'execa'
import { describe, it, expect, beforeAll, afterAll } from 'vitest'
import { labExec } from '../lab/lab.js'
import { openE2e, createSite, configureLabS3, type E2e, type CreatedSite } from '../support/e2e.js'
import { waitForJob, lastRecap, type JobView } from '../support/jobs.js'
import { queryOne } from '../../runtime/store/db.js'

// Unique per run, so a kept lab (PRESSLUFT_E2E_KEEP_LAB) can run the file again.
const SLUG = `deploy-${Date.now().toString(36)}`
const timings: Record<string, number> = {}

interface Answer { at: number; status: number; version: string | null }

function get(ip: string, host: string, urlPath: string): Promise<Answer & { body: string }> {
  const at = Date.now()
  return new Promise((resolve) => {
    const req = http.request({ host: ip, port: 80, path: urlPath, headers: { host }, timeout: 20_000, agent: false }, (res) => {
      let body = ''
      res.on('data', (d) => { body += d })
      res.on('end', () => resolve({ at, status: res.statusCode ?? 0, version: (res.headers['x-deploy-version'] as string | undefined) ?? null, body }))
    })
    req.on('error', () => resolve({ at, status: 0, version: null, body: '' }))
    req.on('timeout', () => req.destroy(new Error('timeout')))
    req.end()
  })
}

/**
 * A bounded request loop against the lab node: 2 workers, each at most one request per 100 ms (≤ 20 req/s in total),
 * cache-busting query strings so every request reaches PHP; stops on stop() or by itself after maxSeconds.
 */
function requestLoop(ip: string, host: string, maxSeconds = 240) {
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
  return {
    answers,
    async stop(): Promise<Answer[]> { stopped = true; await running; return answers },
  }
}

/** The single follow-up of a job (health_check after a deploy, release_rollback after a failed check), once it is finished. */
async function followUp(e2e: E2e, parentId: string, jobType: string): Promise<JobView> {
  const deadline = Date.now() + 600_000
  for (;;) {
    const row = await queryOne<{ id: string }>(e2e.cp.services.db, 'SELECT id FROM jobs WHERE parent_job_id = ? AND job_type = ? ORDER BY created_at DESC LIMIT 1', [parentId, jobType])
    if (row) return waitForJob(e2e.cp, row.id)
    if (Date.now() > deadline) throw new Error(`no ${jobType} follow-up of ${parentId}`)
    await new Promise((r) => setTimeout(r, 500))
  }
}

function finishedAt(job: JobView): number {
  return Date.parse((job as JobView & { finished_at: string }).finished_at)
}

interface ReleaseItem { id: string; source_type: string; source_ref: string; health_status: string; is_current: boolean }

describe('deploys with health checks and automatic rollback, through the API on a lab node', () => {
  let e2e: E2e
  let site: CreatedSite
  let ip: string
  let work: string
  const releases: Record<string, string> = {}
  const deployJobs: Record<string, string> = {}

  async function listReleases(): Promise<ReleaseItem[]> {
    const res = await e2e.cp.request('GET', `/api/environments/${site.envId}/releases`)
    expect(res.status).toBe(200)
    return (await res.json()).items
  }

  async function envAndSiteStatus(): Promise<[string, string]> {
    const env = await (await e2e.cp.request('GET', `/api/environments/${site.envId}`)).json()
    const s = await (await e2e.cp.request('GET', `/api/sites/${site.siteId}`)).json()
    return [env.status, s.status]
  }

  /** An artifact tree: a mu-plugin that names the release in a header and the footer, and a plugin, in version v. */
  function writeArtifact(dir: string, v: string, fatal = false): void {
    fs.mkdirSync(path.join(dir, 'wp-content/mu-plugins'), { recursive: true })
    fs.mkdirSync(path.join(dir, 'wp-content/plugins/pl-hello'), { recursive: true })
    fs.writeFileSync(path.join(dir, 'wp-content/mu-plugins/pl-deploy-version.php'),
      `<?php\nadd_action('send_headers', function () { header('X-Deploy-Version: ${v}'); });\nadd_action('wp_footer', function () { echo '<!-- deploy-version:${v} -->'; });\n`)
    fs.writeFileSync(path.join(dir, 'wp-content/plugins/pl-hello/pl-hello.php'), `<?php\n/* Plugin Name: PL Hello ${v} */\n`)
    // A PHP fatal error on every request: the health check must catch it.
    if (fatal) fs.writeFileSync(path.join(dir, 'wp-content/mu-plugins/pl-fatal.php'), '<?php\npl_function_that_does_not_exist();\n')
  }

  async function deploy(sourceType: 'git' | 'upload', sourceRef: string, version: string) {
    const loop = requestLoop(ip, site.previewHost)
    const started = Date.now()
    const res = await e2e.cp.request('POST', `/api/environments/${site.envId}/deploy`, { source_type: sourceType, source_ref: sourceRef })
    expect(res.status).toBe(202)
    const jobId = (await res.json()).job_id as string
    deployJobs[version] = jobId
    const job = await waitForJob(e2e.cp, jobId)
    expect(job.error_message ?? '').toBe('')
    expect(job.status).toBe('succeeded')
    timings[`deploy_${version}_202_to_job_succeeded`] = (finishedAt(job) - started) / 1000
    return { loop, job, started }
  }

  beforeAll(async () => {
    e2e = await openE2e()
    ip = e2e.node.ip
    site = await createSite(e2e, { slug: SLUG, name: 'Deploy E2E' })
    // The lab's git server sits on the lab gateway, a 198.18.0.0/15 address: refused as a deploy source until the
    // operator allows it, exactly like an import archive.
    const gateway = new URL(e2e.lab.git.url).hostname
    // Other files share this control plane's settings: start from no allow-list.
    expect((await e2e.cp.request('PATCH', '/_admin/settings', { import_allowed_sources: null })).status).toBe(200)
    const refused = await e2e.cp.request('POST', `/api/environments/${site.envId}/deploy`, { source_type: 'git', source_ref: `${e2e.lab.git.url}${SLUG}.git#v1` })
    expect(refused.status).toBe(400)
    expect(JSON.stringify(await refused.json())).toContain('not in the import_allowed_sources setting')
    expect((await e2e.cp.request('PATCH', '/_admin/settings', { import_allowed_sources: gateway })).status).toBe(200)

    work = fs.mkdtempSync(path.join(os.tmpdir(), 'pressluft-deploy-e2e-'))
    const repo = path.join(work, 'repo')
    writeArtifact(repo, 'v1')
    const git = (args: string[], cwd = repo) => execa('git', ['-c', 'user.email=e2e@pressluft.test', '-c', 'user.name=e2e', ...args], { cwd })
    await git(['init', '-q', '-b', 'main'])
    await git(['add', '.'])
    await git(['commit', '-q', '-m', 'v1'])
    await git(['tag', 'v1'])
    fs.rmSync(path.join(e2e.lab.git.dir, `${SLUG}.git`), { recursive: true, force: true })
    await git(['clone', '-q', '--bare', repo, path.join(e2e.lab.git.dir, `${SLUG}.git`)], work)
    for (const [v, fatal] of [['v2', false], ['v3', true]] as const) {
      writeArtifact(path.join(work, v), v, fatal)
      await execa('tar', ['-czf', path.join(e2e.lab.git.dir, 'files', `${SLUG}-${v}.tar.gz`), '-C', path.join(work, v), 'wp-content'])
    }
  })

  afterAll(async () => {
    console.log(`deploy e2e timings (s): ${JSON.stringify(timings)}`)
    if (work) fs.rmSync(work, { recursive: true, force: true })
    await e2e?.close()
  })

  it('deploys v1 from git: the deploy and its health check succeed, v1 answers, with zero 5xx during the switch', async () => {
    const { loop, job, started } = await deploy('git', `${e2e.lab.git.url}${SLUG}.git#v1`, 'v1')
    const health = await followUp(e2e, job.id, 'health_check')
    expect(health.status).toBe('succeeded')
    const answers = await loop.stop()
    const page = await get(ip, site.previewHost, '/')
    expect(page).toMatchObject({ status: 200, version: 'v1' })
    expect(page.body).toContain('<!-- deploy-version:v1 -->')
    expect(answers.length).toBeGreaterThan(5)
    expect(answers.filter((a) => a.status >= 500 || a.status === 0)).toEqual([])
    // Once the job has succeeded, no answer comes from the old release.
    expect(answers.filter((a) => a.at > finishedAt(job) && a.version !== 'v1')).toEqual([])
    const first = answers.find((a) => a.version === 'v1')
    if (first) timings.deploy_v1_202_to_new_release_answering = (first.at - started) / 1000
    const [newest] = await listReleases()
    expect(newest).toMatchObject({ source_type: 'git', source_ref: `${e2e.lab.git.url}${SLUG}.git#v1`, health_status: 'healthy', is_current: true })
    releases.v1 = newest.id
    expect(await envAndSiteStatus()).toEqual(['active', 'active'])
  })

  it('deploys v2 from an archive uploaded to the backup storage (s3://): v2 answers, with zero 5xx during the switch', async () => {
    await configureLabS3(e2e)
    const { s3 } = e2e.lab
    const key = `artifacts/${SLUG}-v2.tar.gz`
    // The operator's upload: put the archive into the backup bucket (from the node, which has rclone and reaches the lab S3).
    await labExec(e2e.node.name, ['sh', '-c', `curl -sf -o /tmp/${SLUG}-v2.tar.gz ${e2e.lab.git.url}files/${SLUG}-v2.tar.gz && rclone copyto /tmp/${SLUG}-v2.tar.gz lab:${s3.bucket}/${key} && rm /tmp/${SLUG}-v2.tar.gz`], {
      instance: e2e.instance,
      env: {
        RCLONE_CONFIG_LAB_TYPE: 's3', RCLONE_CONFIG_LAB_PROVIDER: 'Other', RCLONE_CONFIG_LAB_ENDPOINT: s3.endpoint, RCLONE_CONFIG_LAB_REGION: s3.region,
        RCLONE_CONFIG_LAB_ACCESS_KEY_ID: s3.access_key_id, RCLONE_CONFIG_LAB_SECRET_ACCESS_KEY: s3.secret_access_key, RCLONE_CONFIG_LAB_FORCE_PATH_STYLE: 'true',
      },
    })
    const { loop, job } = await deploy('upload', `s3://${s3.bucket}/${key}`, 'v2')
    expect((await followUp(e2e, job.id, 'health_check')).status).toBe('succeeded')
    const answers = await loop.stop()
    expect(await get(ip, site.previewHost, '/')).toMatchObject({ status: 200, version: 'v2' })
    expect(answers.filter((a) => a.status >= 500 || a.status === 0)).toEqual([])
    expect(answers.filter((a) => a.at > finishedAt(job) && a.version !== 'v2')).toEqual([])
    const [newest] = await listReleases()
    expect(newest).toMatchObject({ source_type: 'upload', health_status: 'healthy', is_current: true })
    releases.v2 = newest.id
  })

  it('deploys v3 whose mu-plugin fatals: the health check fails, release_rollback runs by itself, v2 answers again and v3 is unhealthy', async () => {
    const { loop, job } = await deploy('upload', `${e2e.lab.git.url}files/${SLUG}-v3.tar.gz`, 'v3')
    const health = await followUp(e2e, job.id, 'health_check')
    expect(health).toMatchObject({ status: 'failed', error_code: 'HEALTH_CHECK_FAILED' })
    const rollback = await followUp(e2e, health.id, 'release_rollback')
    expect(rollback.error_message ?? '').toBe('')
    expect(rollback.status).toBe('succeeded')
    const answers = await loop.stop()
    expect(await get(ip, site.previewHost, '/')).toMatchObject({ status: 200, version: 'v2' })
    // While v3 was live its fatal error answered 500; the switches themselves (to v3 and back) produced no other 5xx.
    const errors = answers.filter((a) => a.status >= 500 || a.status === 0)
    expect(errors.filter((a) => a.status !== 500)).toEqual([])
    expect(answers.filter((a) => a.at > finishedAt(rollback) && (a.status !== 200 || a.version !== 'v2'))).toEqual([])
    const firstBack = answers.find((a) => a.at > Date.parse((rollback as JobView & { started_at: string }).started_at) && a.version === 'v2')
    if (firstBack) timings.auto_rollback_start_to_previous_answering = (firstBack.at - Date.parse((rollback as JobView & { started_at: string }).started_at)) / 1000
    const list = await listReleases()
    const v3 = list[0]
    expect(v3).toMatchObject({ source_ref: `${e2e.lab.git.url}files/${SLUG}-v3.tar.gz`, health_status: 'unhealthy', is_current: false })
    releases.v3 = v3.id
    expect(list.find((r) => r.id === releases.v2)).toMatchObject({ is_current: true, health_status: 'healthy' })
    expect(await envAndSiteStatus()).toEqual(['active', 'active'])
  })

  it('rolls back to v1 on the operator\'s request: 202, v1 answers, zero 5xx during the switch', async () => {
    const loop = requestLoop(ip, site.previewHost)
    const res = await e2e.cp.request('POST', `/api/environments/${site.envId}/rollback`, { release_id: releases.v1 })
    expect(res.status).toBe(202)
    const job = await waitForJob(e2e.cp, (await res.json()).job_id)
    expect(job.error_message ?? '').toBe('')
    expect(job.status).toBe('succeeded')
    const answers = await loop.stop()
    expect(await get(ip, site.previewHost, '/')).toMatchObject({ status: 200, version: 'v1' })
    expect(answers.filter((a) => a.status >= 500 || a.status === 0)).toEqual([])
    expect(answers.filter((a) => a.at > finishedAt(job) && a.version !== 'v1')).toEqual([])
    expect((await listReleases()).find((r) => r.is_current)?.id).toBe(releases.v1)
  })

  it('refuses a rollback to the unhealthy v3 with 409 and leaves v1 live', async () => {
    const res = await e2e.cp.request('POST', `/api/environments/${site.envId}/rollback`, { release_id: releases.v3 })
    expect(res.status).toBe(409)
    expect(await res.json()).toMatchObject({ code: 'release_not_rollback_target', details: { reason: 'release_unhealthy' } })
    expect(await get(ip, site.previewHost, '/')).toMatchObject({ status: 200, version: 'v1' })
  })

  it('re-delivering the finished v1 deploy job (at-least-once delivery) reports changed=0 and keeps v1 live', async () => {
    const db = e2e.cp.services.db
    const id = deployJobs.v1
    await db.execute({ sql: "UPDATE jobs SET status = 'queued', finished_at = NULL, locked_at = NULL, locked_by = NULL, attempt_count = 0 WHERE id = ?", args: [id] })
    await db.execute({ sql: "UPDATE sites SET status = 'deploying' WHERE id = ?", args: [site.siteId] })
    await db.execute({ sql: "UPDATE environments SET status = 'deploying' WHERE id = ?", args: [site.envId] })
    e2e.cp.services.jobControl.wake()
    const rerun = await waitForJob(e2e.cp, id)
    expect(rerun.status).toBe('succeeded')
    expect(lastRecap(e2e.cp, id)).toMatchObject({ changed: 0, failed: 0 })
    // The redelivery's own health check follow-up closes the chain again.
    const health = await queryOne<{ id: string }>(db, "SELECT id FROM jobs WHERE parent_job_id = ? AND job_type = 'health_check' ORDER BY created_at DESC LIMIT 1", [id])
    expect((await waitForJob(e2e.cp, health!.id)).status).toBe('succeeded')
    expect(await get(ip, site.previewHost, '/')).toMatchObject({ status: 200, version: 'v1' })
    expect(await envAndSiteStatus()).toEqual(['active', 'active'])
  })

  it('fails a rollback to a release no longer on the node (pruned) at once with RELEASE_NOT_ON_NODE, without a retry, and leaves v1 live and the environment active', async () => {
    // A node keeps the newest five releases; removing v2's directory stands in for five later deploys.
    const v2 = await queryOne<{ path: string }>(e2e.cp.services.db, 'SELECT path FROM releases WHERE id = ?', [releases.v2])
    expect(v2!.path).toMatch(/\/releases\/\d{14}$/)
    await labExec(e2e.node.name, ['rm', '-rf', v2!.path], { instance: e2e.instance })
    const res = await e2e.cp.request('POST', `/api/environments/${site.envId}/rollback`, { release_id: releases.v2 })
    expect(res.status).toBe(202)
    const job = await waitForJob(e2e.cp, (await res.json()).job_id)
    expect(job).toMatchObject({ status: 'failed', error_code: 'RELEASE_NOT_ON_NODE', attempt_count: 1 })
    expect(job.error_message).toContain('is not a complete release on this node')
    expect(await get(ip, site.previewHost, '/')).toMatchObject({ status: 200, version: 'v1' })
    expect(await envAndSiteStatus()).toEqual(['active', 'active'])
  })
})
