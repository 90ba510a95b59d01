// Live progress of a real provision: the stream of GET /api/jobs/{id}/events that the e2e global setup read while
// node1 was provisioned (tests/support/e2e-global-setup.ts), compared with the playbook and with a late subscriber.
import fs from 'node:fs'
import path from 'node:path'
import { describe, it, expect, beforeAll, afterAll } from 'vitest'
import { inject } from 'vitest'
import { openE2e, type E2e } from '../support/e2e.js'
import { readSse, PROVISION_EVENTS_FILE, type SseRead } from '../support/sse.js'

const ROLE_PREFIX = /^([a-z0-9-]+) : (.*)$/

/** Task names written in node-provision.yml and the task files of its roles. */
function taskNamesOfProvision(): { playbook: Set<string>; roles: Map<string, Set<string>> } {
  const names = (file: string) => new Set([...fs.readFileSync(file, 'utf8').matchAll(/^\s*-?\s*name:\s*(.+?)\s*$/gm)].map((m) => m[1].replace(/^(["'])(.*)\1$/, '$2')))
  const playbookFile = path.resolve('ansible/playbooks/node-provision.yml')
  const roles = new Map<string, Set<string>>()
  for (const m of fs.readFileSync(playbookFile, 'utf8').matchAll(/^\s*- role: ([a-z0-9-]+)/gm)) {
    const dir = path.resolve('ansible/roles', m[1], 'tasks')
    const set = new Set<string>()
    // A role may have handlers only (nginx-reload).
    for (const file of fs.existsSync(dir) ? fs.readdirSync(dir) : []) for (const n of names(path.join(dir, file))) set.add(n)
    roles.set(m[1], set)
  }
  return { playbook: names(playbookFile), roles }
}

describe('live progress of node1\'s provision', () => {
  let e2e: E2e
  let live: SseRead & { error?: string }
  beforeAll(async () => {
    e2e = await openE2e()
    live = JSON.parse(fs.readFileSync(path.join(inject('e2eRun').dataDir, PROVISION_EVENTS_FILE), 'utf8')) as SseRead
  })
  afterAll(async () => { await e2e?.close() })

  it('showed running, every task of node-provision.yml as task n of m with done reaching m, then succeeded, and ended', () => {
    expect(live.closedByServer, live.error ?? 'the stream was still open 10 s after the job ended').toBe(true)
    const recorded = live.events.filter((e) => e.id !== null)
    expect(recorded[0]).toMatchObject({ event: 'status', data: { status: 'running' } })
    expect(recorded.at(-1)).toMatchObject({ event: 'status', data: { status: 'succeeded', error_code: null } })

    const tasks = recorded.filter((e) => e.event === 'task' && !e.data.handler)
    const total = tasks[0].data.total as number
    expect(total).toBeGreaterThan(50)
    expect(tasks.map((e) => e.data.n)).toEqual(tasks.map((_, i) => i + 1))
    expect(tasks.length).toBe(total)
    const done = recorded.filter((e) => e.event === 'progress').map((e) => e.data.done as number)
    expect(done.at(-1)).toBe(total)
    for (let i = 1; i < done.length; i++) expect(done[i]).toBeGreaterThanOrEqual(done[i - 1])

    // Every task shown is one written in the playbook or its roles (or Ansible's argument check of a role).
    const { playbook, roles } = taskNamesOfProvision()
    const unknown = tasks.map((e) => String(e.data.task)).filter((name) => {
      const m = ROLE_PREFIX.exec(name)
      if (!m) return !playbook.has(name)
      return !(m[2].startsWith('Validating arguments against arg spec') || roles.get(m[1])?.has(m[2]))
    })
    expect(unknown).toEqual([])
    const shown = new Set(tasks.map((e) => String(e.data.task)))
    expect(shown).toContain('Gather the facts provisioning needs (OS release, RAM for Redis, service manager)')
    expect(shown).toContain('node-stack : Install nginx, PHP-FPM, MariaDB, Redis, certbot, fail2ban and tools')
    expect(shown).toContain('firewall : Write the Pressluft firewall table')
    // Roles run in the playbook's order.
    const firstOf = (role: string) => tasks.findIndex((e) => String(e.data.task).startsWith(`${role} : `))
    expect(firstOf('node-stack')).toBeLessThan(firstOf('firewall'))
    expect(firstOf('firewall')).toBeLessThan(firstOf('pressluft-helper'))

    // Live, not at the end: every task reached the subscriber within 5 s of the moment the control plane recorded it
    // (the provision itself runs for minutes).
    const lateBy = live.events.map((e, i) => (e.event === 'task' ? live.arrivals[i] - Date.parse(String(e.data.at)) : 0))
    expect(Math.max(...lateBy)).toBeLessThan(5000)
    const span = Date.parse(String(recorded.at(-1)!.data.at)) - Date.parse(String(recorded[0].data.at))
    expect(span).toBeGreaterThan(30_000)

    const lines = recorded.filter((e) => e.event === 'output').map((e) => String(e.data.line))
    expect(lines.some((l) => l.startsWith('TASK [node-stack : Install nginx'))).toBe(true)
    expect(lines.some((l) => /PLAY RECAP/.test(l))).toBe(true)
  })

  it('replays the same history to a subscriber after the provision, and reports progress done = total', async () => {
    const replay = await readSse(await e2e.cp.request('GET', `/api/jobs/${e2e.provisionJobId}/events`), 20_000)
    expect(replay.closedByServer).toBe(true)
    expect(replay.events).toEqual(live.events.filter((e) => e.id !== null))
    const job = await (await e2e.cp.request('GET', `/api/jobs/${e2e.provisionJobId}`)).json()
    const total = live.events.find((e) => e.event === 'task')!.data.total
    expect(job.progress).toMatchObject({ done: total, total })
  })
})
