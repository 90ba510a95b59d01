// Issue 12 point 7: the data directory is private — directories 0700, files 0600 — after a start, after a job, and an
// existing wider directory is tightened at start-up with one log line.
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { describe, it, expect, afterEach } from 'vitest'
import { createTestControlPlane } from '../support/control-plane.js'
import { startControlPlaneProcess } from '../support/control-plane-process.js'
import { engineHarness, type EngineHarness } from './engine-support.js'
import { waitForJob } from '../support/jobs.js'
import { insertJob } from '../../runtime/store/jobs-insert.js'

const TIGHTENED = 'data directory was readable by group or others'

/** Every entry below (and including) root as "relative-path mode", symbolic links skipped. */
function modes(root: string): Map<string, string> {
  const out = new Map<string, string>()
  const walk = (p: string) => {
    const stat = fs.lstatSync(p)
    if (stat.isSymbolicLink()) return
    out.set(path.relative(root, p) || '.', (stat.mode & 0o777).toString(8).padStart(4, '0'))
    if (stat.isDirectory()) for (const name of fs.readdirSync(p)) walk(path.join(p, name))
  }
  walk(root)
  return out
}

/** Entries whose mode is not 0700 (directories) or 0600 (files). */
function widerThanPrivate(root: string): string[] {
  return [...modes(root)].filter(([rel, mode]) => mode !== (fs.lstatSync(path.join(root, rel)).isDirectory() ? '0700' : '0600')).map(([rel, mode]) => `${rel} ${mode}`)
}

describe('private data directory', () => {
  const cleanup: (() => Promise<void> | void)[] = []
  afterEach(async () => { for (const fn of cleanup.splice(0).reverse()) await fn() })

  function tempParent(): string {
    const parent = fs.mkdtempSync(path.join(os.tmpdir(), 'pressluft-private-'))
    cleanup.push(() => fs.rmSync(parent, { recursive: true, force: true }))
    return parent
  }

  it('a first start of runtime/main.ts creates the data directory 0700 and the database, its -wal/-shm, secrets and known_hosts 0600', async () => {
    const dataDir = path.join(tempParent(), 'data')
    // The test runner's own umask is the usual 022: main.ts must not depend on the caller's.
    expect(process.umask() & 0o077).not.toBe(0o077)
    const plane = await startControlPlaneProcess(dataDir)
    cleanup.push(() => plane.stop())
    await plane.login()
    const seen = modes(dataDir)
    expect(Object.fromEntries(['.', 'pressluft.db', 'pressluft.db-wal', 'pressluft.db-shm', 'known_hosts', 'secrets', 'secrets/master.key', 'secrets/ssh',
      'secrets/ssh/control-plane.jwe', 'secrets/ssh/control-plane.pub.jwe'].map((rel) => [rel, seen.get(rel)]))).toEqual({
      '.': '0700', 'pressluft.db': '0600', 'pressluft.db-wal': '0600', 'pressluft.db-shm': '0600', known_hosts: '0600', secrets: '0700',
      'secrets/master.key': '0600', 'secrets/ssh': '0700', 'secrets/ssh/control-plane.jwe': '0600', 'secrets/ssh/control-plane.pub.jwe': '0600',
    })
    expect(widerThanPrivate(dataDir)).toEqual([])
    expect(plane.logLines.filter((l) => l.includes(TIGHTENED))).toEqual([])
  })

  it('tightens a data directory that an earlier version left 0755 with 0644 files, with one log line, and keeps its data', async () => {
    const dataDir = path.join(tempParent(), 'data')
    const first = await createTestControlPlane({}, {}, { dataDir })
    await first.login()
    await first.close()
    // What the control plane before this change left behind (umask 022); master.key was always created 0600 (a readable
    // key still stops start-up, tests/api/startup.test.ts).
    for (const rel of modes(dataDir).keys()) {
      if (rel !== 'secrets/master.key') fs.chmodSync(path.join(dataDir, rel), fs.lstatSync(path.join(dataDir, rel)).isDirectory() ? 0o755 : 0o644)
    }
    expect(widerThanPrivate(dataDir).length).toBeGreaterThan(5)

    const second = await createTestControlPlane({}, {}, { dataDir })
    cleanup.push(() => second.close())
    expect(widerThanPrivate(dataDir)).toEqual([])
    const lines = second.logLines.filter((l) => l.includes(TIGHTENED))
    expect(lines).toHaveLength(1)
    expect(JSON.parse(lines[0])).toMatchObject({ level: 40, data_dir: dataDir })
    expect(JSON.parse(lines[0]).tightened).toBeGreaterThan(5)
    await second.login() // the admin of the first start is still there

    // A start over an already private directory says nothing.
    await second.close()
    cleanup.pop()
    const third = await createTestControlPlane({}, {}, { dataDir })
    cleanup.push(() => third.close())
    expect(third.logLines.filter((l) => l.includes(TIGHTENED))).toEqual([])
  })

  it('keeps the run directory 0700 with 0600 files during a job and the whole data directory private after it', async () => {
    const h: EngineHarness = await engineHarness()
    cleanup.push(() => h.close())
    await h.cp.scheduler!.start()
    const capture = fs.mkdtempSync(path.join(os.tmpdir(), 'pressluft-capture-'))
    cleanup.push(() => fs.rmSync(capture, { recursive: true, force: true }))
    h.use('cache-purge.yml', 'capture.yml')
    const prev = process.env.CAPTURE_DIR
    process.env.CAPTURE_DIR = capture
    cleanup.push(() => { if (prev === undefined) delete process.env.CAPTURE_DIR; else process.env.CAPTURE_DIR = prev })
    const id = await insertJob(h.cp.services.db, {
      job_type: 'cache_purge', site_id: h.site.siteId, environment_id: h.site.productionId, node_id: h.site.nodeId, payload: {}, requested_by: null, max_attempts: 1,
    })
    h.cp.services.jobControl.wake()
    expect((await waitForJob(h.cp, id, 60_000)).status).toBe('succeeded')
    expect(JSON.parse(fs.readFileSync(path.join(capture, 'modes.json'), 'utf8'))).toEqual({ '.': '0700', 'inventory.ini': '0600', 'vars.json': '0600', id_ed25519: '0600' })
    const after = modes(h.cp.config.dataDir)
    // The job wrote secrets (the environment's DB password) and the run root; the run directory itself is gone.
    expect([...after.keys()].some((rel) => rel.startsWith('secrets/env/'))).toBe(true)
    expect(after.get('run')).toBe('0700')
    expect(widerThanPrivate(h.cp.config.dataDir)).toEqual([])
  })
})
