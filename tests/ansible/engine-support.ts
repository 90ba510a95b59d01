// Helpers for tests that run real ansible-playbook through the job engine: fixture playbooks under registry names.
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { createTestControlPlane, type TestControlPlane } from '../support/control-plane.js'
import { insertActiveNode, createActiveSite, type SeededSite } from '../support/seed.js'
import type { AnsibleOptions } from '../../runtime/jobs/job-runner.js'

export const FIXTURES = path.resolve('tests/fixtures/playbooks')

export interface EngineHarness {
  cp: TestControlPlane
  playbooksDir: string
  site: SeededSite
  /** Installs a fixture as the playbook of a registry file name, e.g. use('cache-purge.yml', 'sleep.yml'). */
  use(playbook: string, fixture: string): void
  close(): Promise<void>
}

/**
 * A control plane whose runner resolves playbooks from a temporary directory of fixtures, with an active node at
 * 127.0.0.1 and one active site. The scheduler is started by the caller after seeding, so no seed job is claimed.
 */
export async function engineHarness(env: Record<string, string> = {}, ansible: AnsibleOptions = {}): Promise<EngineHarness> {
  const playbooksDir = fs.mkdtempSync(path.join(os.tmpdir(), 'pressluft-playbooks-'))
  const cp = await createTestControlPlane({ PRESSLUFT_POLL_INTERVAL_MS: '200', ...env }, { ansible: { playbooksDir, killGraceMs: 2000, ...ansible } })
  await cp.login()
  const nodeId = await insertActiveNode(cp, { name: 'local-test', hostname: '127.0.0.1', public_ip: '127.0.0.1' })
  const site = await createActiveSite(cp, `s${Math.random().toString(36).slice(2, 8)}`, nodeId)
  return {
    cp, playbooksDir, site,
    use(playbook, fixture) {
      fs.copyFileSync(path.join(FIXTURES, fixture), path.join(playbooksDir, playbook))
    },
    async close() {
      await cp.close()
      fs.rmSync(playbooksDir, { recursive: true, force: true })
    },
  }
}

/** Processes whose command line contains the given text (excluding this lookup). */
export function processesMatching(text: string): { pid: number; cmdline: string }[] {
  const out: { pid: number; cmdline: string }[] = []
  for (const name of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(name) || Number(name) === process.pid) continue
    try {
      const cmdline = fs.readFileSync(`/proc/${name}/cmdline`, 'utf8').split('\0').join(' ')
      const state = fs.readFileSync(`/proc/${name}/stat`, 'utf8').split(') ')[1]?.[0]
      if (cmdline.includes(text) && state !== 'Z') out.push({ pid: Number(name), cmdline })
    } catch { /* exited */ }
  }
  return out
}

export async function until(predicate: () => Promise<boolean> | boolean, timeoutMs = 30_000, label = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${label}`)
    await new Promise((r) => setTimeout(r, 100))
  }
}
