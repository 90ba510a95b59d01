// Every registered job type (runtime/jobs/types/) has its playbook, and it passes `ansible-playbook --syntax-check` and
// ansible-lint. The types still waiting for their playbook are listed in PENDING; one whose playbook appeared fails
// the test until it is taken off the list, so the list only shrinks and must end empty.
import { spawnSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { JOB_TYPES, jobTypeOf } from '../../runtime/jobs/registry.js'

/** Job types whose playbook is not written yet. */
const PENDING: readonly string[] = []

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')
const ansibleDir = path.join(repoRoot, 'ansible')
const playbookDir = path.join(ansibleDir, 'playbooks')
const exists = (type: string) => fs.existsSync(path.join(playbookDir, jobTypeOf(type).playbook))
const ready = JOB_TYPES.filter((type) => !PENDING.includes(type))
const ansibleEnv = (workDir: string) => ({
  ...process.env,
  ANSIBLE_CONFIG: path.join(ansibleDir, 'ansible.cfg'),
  ANSIBLE_NOCOLOR: '1',
  NO_COLOR: '1',
  ANSIBLE_LOCAL_TEMP: path.join(workDir, 'ansible-local'),
})

describe('the playbooks of the registered job types', () => {
  let workDir = ''
  let inventory = ''

  beforeAll(() => {
    workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'pressluft-ansible-syntax-'))
    // The same shape as the runner's inventory: one host in the group `target`.
    inventory = path.join(workDir, 'inventory.ini')
    fs.writeFileSync(inventory, '[target]\nnode ansible_host=127.0.0.1 ansible_connection=local\n')
  })

  afterAll(() => {
    if (workDir) fs.rmSync(workDir, { recursive: true, force: true })
  })

  it('lists only registered types as pending, and no pending type has a playbook yet', () => {
    for (const type of PENDING) expect(JOB_TYPES, `${type} is pending but not registered`).toContain(type)
    const written = PENDING.filter(exists)
    expect(written, `playbooks exist for ${written.join(', ')}: take them off PENDING in this test`).toEqual([])
  })

  it.each(ready)('%s has its playbook and it passes ansible-playbook --syntax-check', (type) => {
    const playbook = path.join(playbookDir, jobTypeOf(type).playbook)
    expect(fs.existsSync(playbook), `${path.relative(repoRoot, playbook)} is missing`).toBe(true)
    const result = spawnSync('ansible-playbook', ['--syntax-check', '-i', inventory, playbook], { cwd: repoRoot, encoding: 'utf8', env: ansibleEnv(workDir) })
    expect(result.error, 'ansible-playbook must be on PATH (Debian package "ansible")').toBeUndefined()
    expect(result.stderr + result.stdout).not.toMatch(/ERROR!/)
    expect(result.status).toBe(0)
  })

  it('every registered playbook passes ansible-lint (ansible/.ansible-lint)', () => {
    const playbooks = ready.map((type) => path.join('playbooks', jobTypeOf(type).playbook))
    const result = spawnSync('ansible-lint', ['--nocolor', ...playbooks], { cwd: ansibleDir, encoding: 'utf8', env: ansibleEnv(workDir) })
    expect(result.error, 'ansible-lint must be on PATH (Debian package "ansible-lint"); a missing linter is a failure, not a skip').toBeUndefined()
    expect(result.status, `ansible-lint failed:\n${result.stdout}\n${result.stderr}`).toBe(0)
    expect(result.stdout + result.stderr).not.toMatch(/violation/i)
  }, 180_000)
})
