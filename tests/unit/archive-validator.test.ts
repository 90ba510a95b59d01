// The node's import archive validator (ansible/roles/pressluft-helper/files/pl-archive.py), run here with the local python3.
import { execFileSync, spawnSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')
const validator = path.join(root, 'ansible/roles/pressluft-helper/files/pl-archive.py')
// Limits small enough for the generated archives: 50 entries, 2 MiB unpacked.
const LIMITS = ['--max-archive-bytes', '1048576', '--max-unpacked-bytes', String(2 * 1024 * 1024), '--max-entries', '50', '--require', 'db.sql,files/']

describe('import archive validator', () => {
  let dir = ''
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pl-archive-'))
    fs.mkdirSync(path.join(dir, 'archives'))
    execFileSync('python3', [path.join(root, 'tests/support/hostile-archives.py'), path.join(dir, 'archives')])
  })
  afterAll(() => { fs.rmSync(dir, { recursive: true, force: true }) })

  function run(name: string) {
    const stage = path.join(dir, 'stage', name, 'inner')
    fs.mkdirSync(stage, { recursive: true })
    const res = spawnSync('python3', [validator, path.join(dir, 'archives', `${name}.tar.gz`), ...LIMITS, '--extract', stage], { encoding: 'utf8' })
    return { status: res.status, out: JSON.parse(res.stdout.trim()) as { ok: boolean; error?: string; entries?: number }, stage }
  }
  /** Every path below the temp dir except archives/: what the extraction wrote (inside and outside its staging dir). */
  function written(): string[] {
    const out: string[] = []
    const walk = (d: string) => {
      for (const e of fs.readdirSync(d, { withFileTypes: true })) {
        const p = path.join(d, e.name)
        if (p === path.join(dir, 'archives')) continue
        out.push(path.relative(dir, p))
        if (e.isDirectory()) walk(p)
      }
    }
    walk(dir)
    return out
  }

  it('extracts a good archive into the staging directory without keeping modes', () => {
    const { status, out, stage } = run('good')
    expect(status).toBe(0)
    expect(out).toMatchObject({ ok: true, entries: 4 })
    expect(fs.readFileSync(path.join(stage, 'files/themes/x/style.css'), 'utf8')).toBe('/* x */\n')
    expect(fs.statSync(path.join(stage, 'db.sql')).mode & 0o777).toBe(0o644)
  })

  it.each([
    ['traversal', /'\.\.' in path/],
    ['absolute', /absolute path/],
    ['symlink-escape', /symlink pointing outside/],
    ['symlink-absolute', /absolute or empty target/],
    ['write-through-symlink', /symlink pointing outside|below a symlink/],
    ['hardlink', /hard link/],
    ['device', /device, FIFO/],
    ['fifo', /device, FIFO/],
    ['too-many-entries', /more than 50 entries/],
    ['too-large', /unpacked size over/],
    ['no-db', /required entry missing: db.sql/],
  ])('rejects the %s archive and writes nothing outside its staging directory', (name, reason) => {
    const before = new Set(written())
    const { status, out, stage } = run(name)
    expect(status).toBe(1)
    expect(out.ok).toBe(false)
    expect(out.error).toMatch(reason)
    // Validation runs over the whole archive before extraction: a rejected archive writes nothing at all.
    expect(fs.readdirSync(stage)).toEqual([])
    const added = written().filter((p) => !before.has(p) && !p.startsWith(path.join('stage', name)))
    expect(added).toEqual([])
    expect(fs.existsSync('/tmp/pl-escaped-absolute.txt')).toBe(false)
  })

  it('refuses a compressed archive over the size limit before reading it', () => {
    const res = spawnSync('python3', [validator, path.join(dir, 'archives', 'good.tar.gz'), '--max-archive-bytes', '10',
      '--max-unpacked-bytes', '1000000', '--max-entries', '50'], { encoding: 'utf8' })
    expect(res.status).toBe(1)
    expect(JSON.parse(res.stdout).error).toMatch(/over the limit of 10/)
  })
})
