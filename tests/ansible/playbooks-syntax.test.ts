// Every playbook under ansible/playbooks passes `ansible-playbook --syntax-check`, and ansible-lint when it is installed.
import { execFileSync, spawnSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')
const ansibleDir = path.join(repoRoot, 'ansible')
const playbookDir = path.join(ansibleDir, 'playbooks')
const playbooks = fs.readdirSync(playbookDir).filter((name) => name.endsWith('.yml')).sort()

function hasBinary(name: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${name}`], { stdio: 'ignore' }).status === 0
}

describe('ansible playbooks', () => {
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

  it('has the playbooks of the implemented job types', () => {
    expect(playbooks).toEqual(expect.arrayContaining(['node-provision.yml', 'site-create.yml', 'env-create.yml']))
  })

  it.each(playbooks)('%s passes ansible-playbook --syntax-check', (playbook) => {
    const result = spawnSync('ansible-playbook', ['--syntax-check', '-i', inventory, path.join(playbookDir, playbook)], {
      cwd: repoRoot,
      encoding: 'utf8',
      env: {
        ...process.env,
        ANSIBLE_CONFIG: path.join(ansibleDir, 'ansible.cfg'),
        ANSIBLE_NOCOLOR: '1',
        ANSIBLE_LOCAL_TEMP: path.join(workDir, 'ansible-local'),
      },
    })
    expect(result.error, 'ansible-playbook must be on PATH (Debian package "ansible")').toBeUndefined()
    expect(result.stderr + result.stdout).not.toMatch(/ERROR!/)
    expect(result.status).toBe(0)
  })

  it.runIf(hasBinary('ansible-lint'))('every playbook passes ansible-lint', () => {
    let output = ''
    try {
      output = execFileSync('ansible-lint', ['--nocolor', ...playbooks.map((p) => path.join('playbooks', p))], {
        cwd: ansibleDir,
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'pipe'],
        env: { ...process.env, ANSIBLE_CONFIG: path.join(ansibleDir, 'ansible.cfg'), NO_COLOR: '1' },
      })
    } catch (error) {
      const failed = error as { stdout?: string; stderr?: string }
      throw new Error(`ansible-lint failed:\n${failed.stdout ?? ''}\n${failed.stderr ?? ''}`)
    }
    expect(output).not.toMatch(/violation/i)
  }, 180_000)
})
