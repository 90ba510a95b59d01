// Live job progress (GET /api/jobs/{id}/events and GET /api/jobs/{id} `progress`) with a fixture playbook run by the
// real ansible-playbook through the job engine.
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { spawnSync } from 'node:child_process'
import { describe, it, expect, beforeAll, afterAll } from 'vitest'
import { engineHarness, until, FIXTURES, type EngineHarness } from './engine-support.js'
import { readSse, type SseEvent, type SseRead } from '../support/sse.js'
import { listen } from '../support/http-server.js'

// The counted tasks of tests/fixtures/playbooks/progress.yml, in order (the handler is shown but not counted).
const TASKS = ['Announce the job', 'Print the database password', 'Skipped by its condition', 'Wait a moment', 'Work inside the block', 'Clean up always']

const withId = (events: SseEvent[]) => events.filter((e) => e.id !== null)

describe('live job progress of a fixture playbook', () => {
  let h: EngineHarness
  let jobId: string
  let early: SseRead
  let midRun: SseRead
  let password: string
  let cookie: string | undefined

  beforeAll(async () => {
    h = await engineHarness()
    cookie = await h.cp.login()
    h.use('cache-purge.yml', 'progress.yml')
    const accepted = await h.cp.request('POST', `/api/environments/${h.site.productionId}/cache/purge`)
    expect(accepted.status).toBe(202)
    jobId = (await accepted.json()).job_id as string
    // Subscribe before the scheduler runs the job; a second subscriber joins while "Wait a moment" runs.
    const earlyRes = await h.cp.request('GET', `/api/jobs/${jobId}/events`)
    expect(earlyRes.status).toBe(200)
    expect(earlyRes.headers.get('content-type')).toContain('text/event-stream')
    let joinMidRun!: () => void
    const sawWait = new Promise<void>((resolve) => { joinMidRun = resolve })
    const earlyRead = readSse(earlyRes, 60_000, (e) => { if (e.event === 'task' && e.data.task === 'Wait a moment') joinMidRun() })
    await h.cp.scheduler!.start()
    await sawWait
    // The mid-run subscriber goes through a real HTTP server on loopback, as curl -N would.
    const server = await listen(h.cp.app.fetch)
    try {
      const midRes = await fetch(`${server.url}/api/jobs/${jobId}/events`, { headers: { cookie: cookie! } })
      expect(midRes.status).toBe(200)
      ;[early, midRun] = await Promise.all([earlyRead, readSse(midRes, 60_000)])
    } finally {
      await server.close()
    }
    // The runner creates the environment's database password on first use (this run).
    password = (await h.cp.services.secrets.get(`env/${h.site.productionId}/db_password`))!
    expect(password.length).toBeGreaterThan(8)
  }, 90_000)
  afterAll(async () => { await h?.close() })

  it('streams status running, the tasks with done rising to total, redacted output, then succeeded, and closes', () => {
    expect(early.closedByServer).toBe(true)
    const events = early.events
    // Subscribed while queued: the current status first (no id, it is not a recorded event).
    expect(events[0]).toMatchObject({ event: 'status', id: null, data: { status: 'queued' } })
    const recorded = withId(events)
    expect(recorded[0]).toMatchObject({ event: 'status', data: { status: 'running', error_code: null } })
    expect(recorded.at(-1)).toMatchObject({ event: 'status', data: { status: 'succeeded' } })
    expect(events.at(-1)).toBe(recorded.at(-1))
    // Ids are the job's sequence 1, 2, 3, … in order.
    expect(recorded.map((e) => Number(e.id))).toEqual(recorded.map((_, i) => i + 1))

    const start = recorded.find((e) => e.event === 'progress')!
    expect(start.data).toMatchObject({ task: null, done: 0, total: TASKS.length, attempt: 1 })
    const tasks = recorded.filter((e) => e.event === 'task' && !e.data.handler)
    expect(tasks.map((e) => e.data.task)).toEqual(TASKS)
    expect(tasks.map((e) => e.data.n)).toEqual(TASKS.map((_, i) => i + 1))
    expect(tasks.every((e) => e.data.total === TASKS.length)).toBe(true)
    const handlers = recorded.filter((e) => e.event === 'task' && e.data.handler)
    expect(handlers.map((e) => e.data.task)).toEqual(['Say goodbye'])
    // done after each task end: 1, 2, … up to total, never decreasing.
    const done = recorded.filter((e) => e.event === 'progress').map((e) => e.data.done as number)
    expect(done[0]).toBe(0)
    expect(done.at(-1)).toBe(TASKS.length)
    for (let i = 1; i < done.length; i++) expect(done[i]).toBeGreaterThanOrEqual(done[i - 1])
    expect(recorded.filter((e) => e.event === 'progress' && e.data.task === 'Skipped by its condition').map((e) => e.data.result)).toEqual(['skipped'])
    // Order: running < first task < last task < succeeded.
    const index = (pred: (e: SseEvent) => boolean) => recorded.findIndex(pred)
    expect(index((e) => e.event === 'task' && e.data.task === TASKS[0])).toBeGreaterThan(0)
    expect(index((e) => e.event === 'task' && e.data.task === TASKS.at(-1))).toBeLessThan(recorded.length - 1)

    const lines = recorded.filter((e) => e.event === 'output').map((e) => String(e.data.line))
    expect(lines.some((l) => l.includes('TASK [Print the database password]'))).toBe(true)
    expect(lines.some((l) => l.includes('db password is [REDACTED]'))).toBe(true)
    expect(lines.some((l) => /PLAY RECAP/.test(l))).toBe(true)
    // The secret is nowhere in the stream, and the lines are the ones the log got.
    expect(JSON.stringify(events)).not.toContain(password)
    const logged = h.cp.logLines.filter((l) => l.includes(jobId)).map((l) => JSON.parse(l) as { msg: string; line?: string }).filter((l) => l.msg === 'ansible').map((l) => l.line)
    expect(lines).toEqual(logged)
  })

  it('gives a subscriber that joined mid-run over HTTP the same history, then the rest live', () => {
    expect(midRun.closedByServer).toBe(true)
    expect(midRun.events[0]).toMatchObject({ event: 'status', data: { status: 'running' } })
    expect(midRun.events).toEqual(withId(early.events))
  })

  it('replays the whole history to a subscriber after the job ended, then closes', async () => {
    const after = await readSse(await h.cp.request('GET', `/api/jobs/${jobId}/events`), 10_000)
    expect(after.closedByServer).toBe(true)
    expect(after.events).toEqual(withId(early.events))
    // Resuming with Last-Event-ID sends only what came after it.
    const resumed = await readSse(await h.cp.request('GET', `/api/jobs/${jobId}/events`, undefined, { 'last-event-id': '3' }), 10_000)
    expect(resumed.events).toEqual(withId(early.events).slice(3))
  })

  it('reports progress { task, done, total } on GET /api/jobs/{id}', async () => {
    const res = await h.cp.request('GET', `/api/jobs/${jobId}`)
    expect(res.status).toBe(200)
    const job = await res.json()
    expect(job.status).toBe('succeeded')
    expect(job.progress).toEqual({ task: 'Say goodbye', done: TASKS.length, total: TASKS.length })
  })

  it('keeps the history in the database: a restarted control plane replays it', async () => {
    await until(async () => Number((await h.cp.services.db.execute({ sql: 'SELECT COUNT(*) AS n FROM job_events WHERE job_id = ?', args: [jobId] })).rows[0].n) === withId(early.events).length, 5000, 'events written')
    // A second hub on the same database (what a restart builds) answers from the table alone.
    const { JobEventHub } = await import('../../runtime/jobs/job-events.js')
    const { JobStatusEvents } = await import('../../runtime/jobs/job-status-events.js')
    const fresh = new JobEventHub(h.cp.services.db, h.cp.services.logger, new JobStatusEvents())
    const history = await fresh.history(jobId)
    expect(history.map((e) => ({ event: e.kind, id: String(e.seq), data: { ...e.data, at: e.at } }))).toEqual(withId(early.events))
    expect(await fresh.progress(jobId)).toEqual({ task: 'Say goodbye', done: TASKS.length, total: TASKS.length })
  })

  it('answers 404 with the structured error for an unknown job, 401 without a session, and null progress before a run', async () => {
    const missing = await h.cp.request('GET', '/api/jobs/00000000-0000-4000-8000-000000000000/events')
    expect(missing.status).toBe(404)
    expect(await missing.json()).toEqual({ code: 'not_found', message: 'Job not found' })
    const anonymous = await h.cp.request('GET', `/api/jobs/${jobId}/events`, undefined, { cookie: '' })
    expect(anonymous.status).toBe(401)
    expect((await anonymous.json()).code).toBe('unauthorized')
    await h.cp.scheduler!.stop()
    const queued = await h.cp.request('POST', `/api/environments/${h.site.productionId}/cache/purge`)
    const queuedId = (await queued.json()).job_id as string
    expect((await (await h.cp.request('GET', `/api/jobs/${queuedId}`)).json()).progress).toBeNull()
  })
})

describe('the progress callback plugin', () => {
  it('leaves what ansible-playbook prints unchanged and writes its events only to descriptor 3', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pressluft-progress-plugin-'))
    try {
      const inventory = path.join(dir, 'inventory.ini')
      fs.writeFileSync(inventory, '[target]\nfixture ansible_connection=local ansible_python_interpreter=auto_silent\n')
      const events = path.join(dir, 'events.jsonl')
      const run = (withPlugin: boolean) => {
        const env: Record<string, string> = {
          ...process.env as Record<string, string>, ANSIBLE_CONFIG: path.resolve('ansible/ansible.cfg'), ANSIBLE_NOCOLOR: '1',
          ANSIBLE_LOCAL_TEMP: path.join(dir, 'tmp'),
        }
        if (withPlugin) Object.assign(env, { ANSIBLE_CALLBACK_PLUGINS: path.resolve('ansible/callback_plugins'), ANSIBLE_CALLBACKS_ENABLED: 'pressluft_progress', PRESSLUFT_PROGRESS_FD: '3' })
        const fd = fs.openSync(events, 'w')
        try {
          return spawnSync('ansible-playbook', ['-i', inventory, '-e', 'job_id=j1', '-e', 'job_type=cache_purge', path.join(FIXTURES, 'success.yml')],
            { encoding: 'utf8', env, stdio: ['ignore', 'pipe', 'pipe', fd] })
        } finally { fs.closeSync(fd) }
      }
      const plain = run(false)
      expect(fs.readFileSync(events, 'utf8')).toBe('')
      const withPlugin = run(true)
      expect(plain.status).toBe(0)
      expect(withPlugin.status).toBe(0)
      expect(withPlugin.stdout).toBe(plain.stdout)
      expect(withPlugin.stdout).toContain('fixture ran job j1 of type cache_purge')
      const lines = fs.readFileSync(events, 'utf8').trim().split('\n').map((l) => JSON.parse(l))
      expect(lines).toEqual([
        { event: 'start', total: 1 },
        { event: 'task', name: 'Report the job', n: 1, total: 1, handler: false },
        { event: 'task_end', n: 1, status: 'ok' },
        { event: 'end', n: 1, total: 1 },
      ])
    } finally {
      fs.rmSync(dir, { recursive: true, force: true })
    }
  }, 60_000)
})
