// Backups and restores through the API on a lab node, against the lab's S3 server (which checks Signature V4):
// full/db/files backups, restores that bring back exactly what was saved, a restore under a request loop,
// a corrupted object, a wrong secret, and retention cleanup.
import { createHash } from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { labExec } from '../lab/lab.js'
import { instancePaths } from '../lab/paths.js'
import { configureLabS3, createSite, openE2e, type CreatedSite, type E2e } from '../support/e2e.js'
import { lastRecap, waitForJob, type JobView } from '../support/jobs.js'
import { rememberSecret } from '../support/log-audit.js'
import { startRequestLoop, type LoopReport } from '../support/request-loop.js'
import { queryAll, queryOne } from '../../runtime/store/db.js'
import { useRetentionClock } from '../../runtime/clock.js'

interface Backup { id: string; backup_scope: string; status: string; checksum: string | null; size_bytes: number | null; storage_path: string }

interface Snapshot {
  posts: string; postmeta: string; options: string
  /** sha256sum of every file under shared/uploads, sorted. */
  uploads: string
  /** sha256sum of every regular file of the current release (minus the release marker), sorted. */
  release: string
  current: string
}

const sha = (text: string) => createHash('sha256').update(text).digest('hex')

describe('backups and restore through the API', () => {
  let e2e: E2e
  let site: CreatedSite
  let LAB: { instance: string }
  let envRoot = ''
  let user = ''
  let db = ''
  let prefix = ''
  const timings: Record<string, number> = {}

  const sh = async (script: string) => (await labExec('node1', ['sh', '-c', script], LAB)).stdout
  const sql = async (query: string) => (await labExec('node1', ['mariadb', '--batch', '--skip-column-names', db, '-e', query], LAB)).stdout

  /** Runs PHP with WordPress loaded, as the environment's user (how a request or the helper writes content). */
  async function wpPhp(code: string): Promise<string> {
    const boot = `$_SERVER['HTTP_HOST'] = ${JSON.stringify(site.previewHost)}; require '${envRoot}/current/wp-load.php';`
    const res = await labExec('node1', ['runuser', '-u', user, '--', 'php', '-r', `${boot} ${code}`], LAB)
    return res.stdout
  }

  async function snapshot(): Promise<Snapshot> {
    // Options WordPress rewrites by itself (transients, cron) are left out; everything else must come back.
    const options = await sql(`SELECT option_name, option_value, autoload FROM ${prefix}options
      WHERE option_name NOT LIKE '\\_transient%' AND option_name NOT LIKE '\\_site\\_transient%' AND option_name NOT IN ('cron', 'doing_cron')
      ORDER BY option_name`)
    return {
      posts: sha(await sql(`SELECT * FROM ${prefix}posts ORDER BY ID`)),
      // _encloseme/_pingme are added when a post is published and removed by WordPress's own cron run.
      postmeta: sha(await sql(`SELECT * FROM ${prefix}postmeta WHERE meta_key NOT IN ('_encloseme', '_pingme') ORDER BY meta_id`)),
      options: sha(options),
      uploads: await sh(`cd ${envRoot}/shared/uploads && find . -type f -print0 | sort -z | xargs -0 -r sha256sum`),
      release: await sh(`cd ${envRoot}/current/ && find . -type f ! -name .pressluft-release -print0 | sort -z | xargs -0 -r sha256sum`),
      current: (await sh(`readlink ${envRoot}/current`)).trim(),
    }
  }

  async function backupIdOf(jobId: string): Promise<string> {
    const row = await queryOne<{ id: string }>(e2e.cp.services.db, "SELECT json_extract(payload_json, '$.backup_id') AS id FROM jobs WHERE id = ?", [jobId])
    return row!.id
  }

  async function listBackups(): Promise<Backup[]> {
    const res = await e2e.cp.request('GET', `/api/environments/${site.envId}/backups?limit=200`)
    expect(res.status).toBe(200)
    return (await res.json() as { items: Backup[] }).items
  }

  async function backup(scope: 'db' | 'files' | 'full'): Promise<{ job: JobView; backup: Backup }> {
    const res = await e2e.cp.request('POST', `/api/environments/${site.envId}/backups`, { backup_scope: scope })
    expect(res.status).toBe(202)
    const { job_id } = await res.json() as { job_id: string }
    const started = Date.now()
    const job = await waitForJob(e2e.cp, job_id, 900_000)
    timings[`backup_${scope}`] = (Date.now() - started) / 1000
    const id = await backupIdOf(job_id)
    return { job, backup: (await listBackups()).find((b) => b.id === id)! }
  }

  /** POST …/restore, then the restore job (after its pre-restore backup) and its health_check follow-up. */
  async function restore(backupId: string): Promise<{ job: JobView; healthCheck?: JobView }> {
    const res = await e2e.cp.request('POST', `/api/environments/${site.envId}/restore`, { backup_id: backupId })
    expect(res.status, await res.clone().text()).toBe(202)
    const { job_id } = await res.json() as { job_id: string }
    const started = Date.now()
    const job = await waitForJob(e2e.cp, job_id, 900_000)
    timings[`restore_${backupId.slice(0, 8)}`] = (Date.now() - started) / 1000
    if (job.status !== 'succeeded') return { job }
    const follow = await queryOne<{ id: string }>(e2e.cp.services.db, "SELECT id FROM jobs WHERE parent_job_id = ? AND job_type = 'health_check'", [job_id])
    return { job, healthCheck: follow ? await waitForJob(e2e.cp, follow.id, 600_000) : undefined }
  }

  async function writeUpload(name: string, megabytes: number) {
    await labExec('node1', ['runuser', '-u', user, '--', 'sh', '-c',
      `mkdir -p ${envRoot}/shared/uploads/2026/11 && head -c ${megabytes * 1024 * 1024} /dev/urandom > ${envRoot}/shared/uploads/2026/11/${name}`], LAB)
  }

  beforeAll(async () => {
    e2e = await openE2e()
    LAB = { instance: e2e.instance }
    await configureLabS3(e2e)
    // A suffix per run, so a kept lab (PRESSLUFT_E2E_KEEP_LAB) can run this file again.
    site = await createSite(e2e, { slug: `bkp-${Date.now().toString(36).slice(-5)}`, name: 'Backup Lab Site' })
    envRoot = `/var/www/sites/${site.siteId}/production`
    user = `wp_${site.envId.slice(0, 8)}`
    db = user
    prefix = JSON.parse(await sh(`php /usr/local/lib/pressluft/pl-wp.php --root=${envRoot}/current table-prefix`)).table_prefix
    // Content: posts with meta written through WordPress's own API, an option, and uploads of a few MB.
    await wpPhp(`for ($i = 0; $i < 5; $i++) { $id = wp_insert_post(['post_title' => "Backup post $i", 'post_content' => str_repeat("Paragraph $i. ", 300), 'post_status' => 'publish'], true); add_post_meta($id, 'pl_marker', "meta-$i"); } update_option('blogdescription', 'Saved before the backup');`)
    await writeUpload('photo-a.jpg', 3)
    await writeUpload('photo-b.jpg', 2)
    await writeUpload('doc-c.pdf', 1)
  })

  afterAll(async () => {
    console.log(`backup e2e timings (s): ${JSON.stringify(timings)}`)
    await e2e?.close()
  })

  let fullBackup: Backup
  let saved: Snapshot

  it('backs up scope full: backup completed with sha256:<hex of manifest.json> and the summed object size; objects in the lab S3', async () => {
    saved = await snapshot()
    const { job, backup: b } = await backup('full')
    expect(job.status, `${job.error_code} ${job.error_message}`).toBe('succeeded')
    expect(b.status).toBe('completed')
    expect(b.checksum).toMatch(/^sha256:[0-9a-f]{64}$/)
    const dir = path.join(instancePaths(e2e.instance).s3, e2e.lab.s3.bucket, b.storage_path.replace(`s3://${e2e.lab.s3.bucket}/`, ''))
    const object = (name: string) => fs.readFileSync(path.join(dir, `${name}._S3rver_object`))
    const manifestBytes = object('manifest.json')
    expect(`sha256:${createHash('sha256').update(manifestBytes).digest('hex')}`).toBe(b.checksum)
    const manifest = JSON.parse(manifestBytes.toString()) as { scope: string; backup_id: string; site_url: string; table_prefix: string; objects: Record<string, { sha256: string; size: number }> }
    expect(manifest).toMatchObject({ scope: 'full', backup_id: b.id, site_url: site.previewUrl, table_prefix: prefix })
    expect(Object.keys(manifest.objects).sort()).toEqual(['db.sql.gz', 'files.tar.gz'])
    for (const [name, entry] of Object.entries(manifest.objects)) {
      const bytes = object(name)
      expect(bytes.length).toBe(entry.size)
      expect(createHash('sha256').update(bytes).digest('hex')).toBe(entry.sha256)
    }
    expect(b.size_bytes).toBe(manifest.objects['db.sql.gz'].size + manifest.objects['files.tar.gz'].size)
    // The uploads (6 MB of random bytes) are in the archive, so it cannot be much smaller than them.
    expect(manifest.objects['files.tar.gz'].size).toBeGreaterThan(6 * 1024 * 1024)
    fullBackup = b
  })

  let loop: LoopReport
  it('restores scope full after posts, options, uploads and a release file changed: all exactly as saved (rows and file SHA-256)', async () => {
    await wpPhp(`$p = get_posts(['numberposts' => -1, 'orderby' => 'ID', 'order' => 'ASC', 's' => 'Backup post']); wp_update_post(['ID' => $p[0]->ID, 'post_title' => 'Edited after the backup']); wp_delete_post($p[1]->ID, true); wp_insert_post(['post_title' => 'Written after the backup', 'post_status' => 'publish']); update_option('blogdescription', 'Changed after the backup');`)
    await sh(`rm ${envRoot}/shared/uploads/2026/11/photo-a.jpg && head -c 1000 /dev/urandom > ${envRoot}/shared/uploads/2026/11/photo-b.jpg && head -c 5000 /dev/urandom > ${envRoot}/shared/uploads/2026/11/new.jpg`)
    await sh(`echo '/* changed */' >> ${envRoot}/current/wp-content/index.php`)
    const changed = await snapshot()
    expect(changed.posts).not.toBe(saved.posts)
    expect(changed.options).not.toBe(saved.options)
    expect(changed.uploads).not.toBe(saved.uploads)
    expect(changed.release).not.toBe(saved.release)

    // 2 req/s, half of them past the page cache: PHP on a lab node of this shared, overloaded 2-core machine keeps up
    // with that even while the restore itself uses the CPU (at 4 req/s a backlog built up before the switch and never drained).
    const requests = startRequestLoop({ ip: e2e.node.ip, host: site.previewHost, ratePerSecond: 2, alternate: true, maxSeconds: 900 })
    let result: Awaited<ReturnType<typeof restore>>
    try {
      result = await restore(fullBackup.id)
    } finally {
      loop = await requests.stop()
    }
    expect(result.job.status, `${result.job.error_code} ${result.job.error_message}`).toBe('succeeded')
    expect(result.healthCheck?.status).toBe('succeeded')
    const after = await snapshot()
    expect(after.posts).toBe(saved.posts)
    expect(after.postmeta).toBe(saved.postmeta)
    expect(after.options).toBe(saved.options)
    expect(after.uploads).toBe(saved.uploads)
    expect(after.release).toBe(saved.release)
    // Files came back as a new release, switched in; the release live before stays as the rollback target.
    expect(after.current).not.toBe(changed.current)
    expect((await labExec('node1', ['test', '-d', `${envRoot}/${changed.current}`], { ...LAB, reject: false })).exitCode).toBe(0)
    // The replaced tables are kept beside the live database until the next restore.
    expect(Number((await labExec('node1', ['mariadb', '-N', '-e', `SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = '${db}_previous'`], LAB)).stdout.trim())).toBeGreaterThan(5)
    const front = await sh(`curl -s --resolve ${site.previewHost}:80:127.0.0.1 http://${site.previewHost}/?after-restore=1`)
    // The post deleted after the backup is listed on the front page again.
    expect(front).toContain('Backup post 1')
    expect(front).not.toContain('Written after the backup')
  })

  it('served the site during that restore: a request loop (2 req/s, half uncached) saw no 5xx and no unanswered request', () => {
    console.log(`restore request loop: ${JSON.stringify({ ...loop, samples: undefined })}`)
    expect(loop.total).toBeGreaterThan(20)
    expect(loop.serverErrors).toBe(0)
    expect(loop.noAnswer).toBe(0)
  })

  it('restores scope db: the database comes back, files and the current release stay as they are', async () => {
    const { job, backup: dbBackup } = await backup('db')
    expect(job.status, `${job.error_code} ${job.error_message}`).toBe('succeeded')
    const savedDb = await snapshot()
    await wpPhp(`update_option('blogdescription', 'Changed after the db backup'); wp_insert_post(['post_title' => 'After db backup', 'post_status' => 'publish']);`)
    await writeUpload('after-db-backup.jpg', 1)
    const changed = await snapshot()
    const { job: r, healthCheck } = await restore(dbBackup.id)
    expect(r.status, `${r.error_code} ${r.error_message}`).toBe('succeeded')
    expect(healthCheck?.status).toBe('succeeded')
    const after = await snapshot()
    expect([after.posts, after.postmeta, after.options]).toEqual([savedDb.posts, savedDb.postmeta, savedDb.options])
    expect(after.uploads).toBe(changed.uploads)
    expect(after.current).toBe(changed.current)
  })

  it('restores scope files: release and uploads come back, the database stays as it is', async () => {
    const { job, backup: filesBackup } = await backup('files')
    expect(job.status, `${job.error_code} ${job.error_message}`).toBe('succeeded')
    const savedFiles = await snapshot()
    await wpPhp(`update_option('blogdescription', 'Changed after the files backup');`)
    await writeUpload('after-files-backup.jpg', 1)
    const changed = await snapshot()
    const { job: r, healthCheck } = await restore(filesBackup.id)
    expect(r.status, `${r.error_code} ${r.error_message}`).toBe('succeeded')
    expect(healthCheck?.status).toBe('succeeded')
    const after = await snapshot()
    expect(after.uploads).toBe(savedFiles.uploads)
    expect(after.release).toBe(savedFiles.release)
    expect(after.current).not.toBe(changed.current)
    expect([after.posts, after.postmeta, after.options]).toEqual([changed.posts, changed.postmeta, changed.options])
  })

  it("restores production's full backup into a staging environment with the URLs rewritten to staging's own", async () => {
    const created = await e2e.cp.request('POST', `/api/sites/${site.siteId}/environments`, {
      name: 'Staging', slug: 'staging', type: 'staging', source_environment_id: site.envId, promotion_preset: 'content-protect',
    })
    expect(created.status).toBe(202)
    const envJob = await waitForJob(e2e.cp, (await created.json() as { job_id: string }).job_id, 900_000)
    expect(envJob.status, `${envJob.error_code} ${envJob.error_message}`).toBe('succeeded')
    const envs = await (await e2e.cp.request('GET', `/api/sites/${site.siteId}/environments`)).json() as { items: { id: string; slug: string; preview_url: string }[] }
    const staging = envs.items.find((e) => e.slug === 'staging')!
    const stagingDb = `wp_${staging.id.slice(0, 8)}`
    const stagingSql = async (query: string) => (await labExec('node1', ['mariadb', '--batch', '--skip-column-names', stagingDb, '-e', query], LAB)).stdout.trim()
    // Something only the backup holds: the staging clone was made after the later edits.
    expect(await stagingSql(`SELECT COUNT(*) FROM ${prefix}posts WHERE post_title = 'Backup post 1' AND post_status = 'publish'`)).toBe('1')
    await stagingSql(`DELETE FROM ${prefix}posts WHERE post_title = 'Backup post 1'`)

    const res = await e2e.cp.request('POST', `/api/environments/${staging.id}/restore`, { backup_id: fullBackup.id })
    expect(res.status, await res.clone().text()).toBe(202)
    const { job_id } = await res.json() as { job_id: string }
    const job = await waitForJob(e2e.cp, job_id, 900_000)
    expect(job.status, `${job.error_code} ${job.error_message}`).toBe('succeeded')
    const follow = await queryOne<{ id: string }>(e2e.cp.services.db, "SELECT id FROM jobs WHERE parent_job_id = ? AND job_type = 'health_check'", [job_id])
    expect((await waitForJob(e2e.cp, follow!.id, 600_000)).status).toBe('succeeded')

    expect(await stagingSql(`SELECT COUNT(*) FROM ${prefix}posts WHERE post_title = 'Backup post 1'`)).toBe('1')
    expect(await stagingSql(`SELECT option_value FROM ${prefix}options WHERE option_name IN ('home', 'siteurl') ORDER BY option_name`)).toBe(`${staging.preview_url}\n${staging.preview_url}`)
    const productionHost = new URL(site.previewUrl).hostname
    expect(await stagingSql(`SELECT COUNT(*) FROM ${prefix}posts WHERE guid LIKE '%${productionHost}%' OR post_content LIKE '%${productionHost}%'`)).toBe('0')
    // Production itself was not touched by the staging restore.
    expect((await sql(`SELECT option_value FROM ${prefix}options WHERE option_name = 'home'`)).trim()).toBe(site.previewUrl)
  })

  it('fails a backup with a wrong S3 secret at once (BACKUP_STORAGE_REJECTED, no retry) with a message naming the cause and not containing the secret', async () => {
    const wrong = `${e2e.lab.s3.secret_access_key.slice(0, -4)}XXXX`
    rememberSecret(wrong)
    await configureLabS3(e2e, { backup_s3_secret_access_key: wrong })
    try {
      const res = await e2e.cp.request('POST', `/api/environments/${site.envId}/backups`, { backup_scope: 'db' })
      expect(res.status).toBe(202)
      const { job_id } = await res.json() as { job_id: string }
      // The first attempt's error is recorded even when the job is queued again for a retry.
      const deadline = Date.now() + 300_000
      let job: JobView
      for (;;) {
        job = await (await e2e.cp.request('GET', `/api/jobs/${job_id}`)).json() as JobView
        if (job.error_message || job.status === 'failed' || Date.now() > deadline) break
        await new Promise((r) => setTimeout(r, 1000))
      }
      // A wrong key is a settings problem: retrying cannot help, so the first attempt is final.
      expect(job).toMatchObject({ status: 'failed', error_code: 'BACKUP_STORAGE_REJECTED', attempt_count: 1 })
      expect(job.error_message).toMatch(/SignatureDoesNotMatch|secret access key/)
      expect(job.error_message).toContain('/_admin/settings')
      expect(job.error_message).not.toContain(wrong)
      const id = await backupIdOf(job_id)
      const b = (await listBackups()).find((x) => x.id === id)!
      expect(b.status).toBe('failed')
      // Nothing of it reached the store.
      const dir = path.join(instancePaths(e2e.instance).s3, e2e.lab.s3.bucket, b.storage_path.replace(`s3://${e2e.lab.s3.bucket}/`, ''))
      expect(fs.existsSync(dir) ? fs.readdirSync(dir) : []).toEqual([])
    } finally {
      await configureLabS3(e2e)
    }
  })

  it('refuses to restore from a corrupted object: BACKUP_CHECKSUM_MISMATCH, live database and files untouched', async () => {
    const { job, backup: b } = await backup('full')
    expect(job.status, `${job.error_code} ${job.error_message}`).toBe('succeeded')
    const dir = path.join(instancePaths(e2e.instance).s3, e2e.lab.s3.bucket, b.storage_path.replace(`s3://${e2e.lab.s3.bucket}/`, ''))
    const objectFile = path.join(dir, 'db.sql.gz._S3rver_object')
    const bytes = fs.readFileSync(objectFile)
    bytes[Math.floor(bytes.length / 2)] ^= 0xff
    fs.writeFileSync(objectFile, bytes)
    await wpPhp(`update_option('blogdescription', 'Live state before the failed restore');`)
    const before = await snapshot()
    const { job: r } = await restore(b.id)
    expect(r.status).toBe('failed')
    expect(r.error_code).toBe('BACKUP_CHECKSUM_MISMATCH')
    const after = await snapshot()
    expect(after).toEqual(before)
  })

  it('cleanup with an injected clock: removes exactly the backups past retention_until (objects and rows), never the newest of an environment, and a second run changes nothing', async () => {
    interface Row { id: string; environment_id: string; status: string; retention_until: string; completed_at: string | null; storage_path: string }
    const dbc = e2e.cp.services.db
    const dirOf = (b: { storage_path: string }) => path.join(instancePaths(e2e.instance).s3, e2e.lab.s3.bucket, b.storage_path.replace(`s3://${e2e.lab.s3.bucket}/`, ''))
    const objectsOf = (b: Row) => (fs.existsSync(dirOf(b)) ? fs.readdirSync(dirOf(b)).sort() : [])
    const rowsNow = () => queryAll<Row>(dbc, 'SELECT id, environment_id, status, retention_until, completed_at, storage_path FROM backups ORDER BY id')
    const inFlight = async () => (await queryAll(dbc, "SELECT id FROM jobs WHERE job_type = 'backup_cleanup' AND status IN ('queued', 'running')")).length > 0

    async function settle(): Promise<void> {
      const deadline = Date.now() + 600_000
      while (await inFlight()) {
        if (Date.now() > deadline) throw new Error('a backup_cleanup is still in flight')
        await new Promise((r) => setTimeout(r, 500))
      }
    }

    /** Sets the retention clock to `at`, waits for the backup_cleanup the scheduler enqueues, then puts the system clock back. */
    async function cleanupAt(at: Date): Promise<JobView> {
      await settle()
      const since = new Date().toISOString()
      const restoreClock = useRetentionClock({ now: () => new Date(at) })
      try {
        const deadline = Date.now() + 120_000
        for (;;) {
          const row = await queryOne<{ id: string }>(dbc, "SELECT id FROM jobs WHERE job_type = 'backup_cleanup' AND created_at >= ? ORDER BY created_at LIMIT 1", [since])
          if (row) return await waitForJob(e2e.cp, row.id, 600_000)
          if (Date.now() > deadline) throw new Error('the scheduler enqueued no backup_cleanup under the injected clock')
          await new Promise((r) => setTimeout(r, 500))
        }
      } finally {
        restoreClock()
        // While the clock was moved the cleanup stays due, so the scheduler may have enqueued one more (same clock: no effect).
        await settle()
      }
    }

    /** Every backup row of the run (other files' too) and its stored objects; the expected outcome at `at` is derived from it. */
    async function expectCleanupAt(at: Date): Promise<{ job: JobView; expired: Row[]; kept: Row[] }> {
      const before = await rowsNow()
      const completed = before.filter((r) => r.status === 'completed')
      const newestOf = new Map<string, Row>()
      for (const r of completed) {
        const n = newestOf.get(r.environment_id)
        if (!n || r.completed_at! > n.completed_at! || (r.completed_at === n.completed_at && r.id > n.id)) newestOf.set(r.environment_id, r)
      }
      const expired = completed.filter((r) => r.retention_until <= at.toISOString() && newestOf.get(r.environment_id)!.id !== r.id)
      const objectsBefore = new Map(before.map((r) => [r.id, objectsOf(r)]))
      const job = await cleanupAt(at)
      expect(job.status, `${job.error_code} ${job.error_message}`).toBe('succeeded')
      const after = await rowsNow()
      const expiredIds = new Set(expired.map((r) => r.id))
      for (const r of before) {
        const now = after.find((x) => x.id === r.id)!
        if (expiredIds.has(r.id)) {
          expect(now.status, `backup ${r.id} past retention`).toBe('expired')
          expect(objectsOf(r), `objects of ${r.id}`).toEqual([])
        } else {
          expect(now.status, `backup ${r.id} not past retention or the newest of its environment`).toBe(r.status)
          expect(objectsOf(r), `objects of ${r.id}`).toEqual(objectsBefore.get(r.id))
        }
      }
      return { job, expired, kept: completed.filter((r) => !expiredIds.has(r.id)) }
    }

    const mine = (await rowsNow()).filter((r) => r.environment_id === site.envId && r.status === 'completed')
      .sort((a, b) => a.retention_until.localeCompare(b.retention_until))
    expect(mine.length).toBeGreaterThanOrEqual(3)
    const newest = mine.reduce((n, r) => (r.completed_at! > n.completed_at! || (r.completed_at === n.completed_at && r.id > n.id) ? r : n))
    expect(mine.every((r) => objectsOf(r).includes('manifest.json._S3rver_object'))).toBe(true)

    // 1. The clock exactly at the retention_until of one of this environment's older backups: it and the ones before
    //    it go (retention_until <= now), the later ones stay.
    const older = mine.filter((r) => r.id !== newest.id)
    const boundary = older[older.length - 2]
    const first = await expectCleanupAt(new Date(boundary.retention_until))
    expect(first.expired.map((r) => r.id)).toContain(boundary.id)
    expect(first.kept.filter((r) => r.environment_id === site.envId && r.id !== newest.id).length).toBeGreaterThan(0)

    // 2. The clock an hour past every backup of this environment: all of them are past retention, only the newest stays.
    const later = new Date(Date.parse(mine[mine.length - 1].retention_until) + 3600_000)
    const second = await expectCleanupAt(later)
    expect(second.kept.filter((r) => r.environment_id === site.envId).map((r) => r.id)).toEqual([newest.id])
    expect(second.expired.length).toBeGreaterThan(0)

    // 3. Again at the same time: nothing left to remove, rows and objects unchanged, changed=0.
    const third = await expectCleanupAt(later)
    expect(third.expired).toEqual([])
    expect(lastRecap(e2e.cp, third.job.id)?.changed).toBe(0)
  })
})
