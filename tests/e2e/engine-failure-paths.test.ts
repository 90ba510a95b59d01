// The job engine's failure paths on a real node through the API: a control plane killed mid-playbook, a cancelled
// provision, and a node that drops off the network.
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { describe, it, expect, beforeAll, afterAll } from 'vitest'
import { inject } from 'vitest'
import { labAuthorize, labSetNodeConnected, labStatus, type LabNode } from '../lab/lab.js'
import { startControlPlaneProcess, type ControlPlaneProcess } from '../support/control-plane-process.js'
import { e2eControlPlaneEnv } from '../support/e2e-run.js'
import type { JobView } from '../support/jobs.js'

// These tests interrupt node_provision at arbitrary points, so they run on node2, a server of their own, and never on
// node1, which the other e2e files share and must find fully provisioned.
const NODE = 'node2'
const BACKOFF_SECONDS = [2, 4, 8]

interface PlaybookProcess { pid: number; pgid: number }

/** ansible-playbook processes (the main one and its forks) started by the control plane of `dataDir`. */
function playbookProcesses(dataDir: string): PlaybookProcess[] {
  const out: PlaybookProcess[] = []
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    try {
      const cmdline = fs.readFileSync(`/proc/${entry}/cmdline`, 'utf8')
      if (!cmdline.includes('ansible-playbook') || !cmdline.includes(dataDir)) continue
      const stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8')
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
      out.push({ pid: Number(entry), pgid: Number(fields[2]) })
    } catch { /* the process ended while we looked */ }
  }
  return out
}

function alive(pid: number): boolean {
  try { process.kill(pid, 0); return true } catch { return false }
}

async function until<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined> | T | undefined): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = await probe()
    if (value !== undefined) return value
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 250))
  }
}

describe('job engine failure paths on a real node', () => {
  let dataDir: string
  let cp: ControlPlaneProcess
  let node: LabNode
  let instance: string
  let env: Record<string, string>
  const sampler = { maxPlaybookGroups: 0, timer: undefined as NodeJS.Timeout | undefined }

  const job = async (id: string): Promise<JobView & { run_after: string | null; updated_at: string; node_id: string }> =>
    (await cp.request('GET', `/api/jobs/${id}`)).json()
  const provision = async (): Promise<string> => {
    const res = await cp.request('POST', '/api/nodes', { name: NODE, hostname: node.ip, public_ip: node.ip })
    expect(res.status).toBe(202)
    return (await res.json() as { job_id: string }).job_id
  }
  const finished = (id: string, timeoutMs = 900_000) => until(`job ${id} to finish`, timeoutMs, async () => {
    const view = await job(id)
    return ['succeeded', 'failed', 'cancelled'].includes(view.status) ? view : undefined
  })
  const nodeStatus = async (): Promise<string> => {
    const nodes = await (await cp.request('GET', '/api/nodes')).json() as { items: { name: string; status: string }[] }
    return nodes.items.find((n) => n.name === NODE)!.status
  }

  beforeAll(async () => {
    instance = inject('e2eRun').instance
    const lab = labStatus({ instance })
    node = lab.nodes.find((n) => n.name === NODE)!
    env = { ...e2eControlPlaneEnv(lab), PRESSLUFT_RETRY_BACKOFF_SECONDS: BACKOFF_SECONDS.join(',') }
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'pressluft-failure-paths-'))
    cp = await startControlPlaneProcess(dataDir, env)
    await cp.login()
    const settings = await (await cp.request('GET', '/_admin/settings')).json() as { ssh_public_key: string }
    const pubFile = path.join(dataDir, 'control-plane.pub')
    fs.writeFileSync(pubFile, `${settings.ssh_public_key}\n`)
    await labAuthorize(pubFile, { instance })
    // "Never two playbooks for that node at once" is checked on every sample of the whole file.
    sampler.timer = setInterval(() => {
      const groups = new Set(playbookProcesses(dataDir).map((p) => p.pgid)).size
      sampler.maxPlaybookGroups = Math.max(sampler.maxPlaybookGroups, groups)
    }, 200)
  })

  afterAll(async () => {
    if (sampler.timer) clearInterval(sampler.timer)
    await labSetNodeConnected(NODE, true, { instance }).catch(() => undefined)
    await cp?.stop()
    if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true })
  })

  it('a control plane killed with SIGKILL mid-provision: on restart the orphaned playbook is killed, the job recovers with WORKER_LOST, runs again and the node ends active', async () => {
    const jobId = await provision()
    // Well inside the playbook: its process group exists and has run for a while (packages are being installed).
    const orphan = await until('the first ansible-playbook', 120_000, () => playbookProcesses(dataDir)[0])
    await new Promise((r) => setTimeout(r, 15_000))
    expect(alive(orphan.pgid)).toBe(true)

    await cp.killHard()
    // Nothing stops the playbook when its parent dies: it lives on as an orphan, as after an OOM kill.
    expect(alive(orphan.pgid)).toBe(true)

    cp = await startControlPlaneProcess(dataDir, env)
    await cp.login()
    await until('the orphaned playbook to be killed', 20_000, () => (alive(orphan.pgid) ? undefined : true))
    const recovered = cp.logLines.map((l) => JSON.parse(l) as { msg?: string; job_id?: string; error_code?: string })
      .filter((l) => l.job_id === jobId && l.msg?.includes('WORKER_LOST'))
    expect(recovered.length).toBeGreaterThan(0)

    const done = await finished(jobId)
    expect({ status: done.status, error: `${done.error_code} ${(done.error_message ?? '').slice(-1500)}` }).toEqual({ status: 'succeeded', error: 'null ' })
    expect(done.attempt_count).toBe(2)
    expect(await nodeStatus()).toBe('active')
    expect(sampler.maxPlaybookGroups).toBe(1)
  })

  it('cancelling a running node_provision ends its process group within 20 s; the job is cancelled and the node unreachable', async () => {
    const jobId = await provision()
    const running = await until('the playbook of the re-provision', 120_000, () => playbookProcesses(dataDir)[0])
    await new Promise((r) => setTimeout(r, 3_000))
    const cancelledAt = Date.now()
    const res = await cp.request('POST', `/api/jobs/${jobId}/cancel`)
    expect(res.status).toBe(200)
    await until('the cancelled playbook group to end', 20_000, () => (alive(-running.pgid) || alive(running.pgid) ? undefined : true))
    expect(Date.now() - cancelledAt).toBeLessThan(20_000)
    expect(playbookProcesses(dataDir)).toEqual([])
    const view = await job(jobId)
    expect(view).toMatchObject({ status: 'cancelled', error_code: 'JOB_CANCELLED' })
    // The provisioning node a cancelled node_provision leaves behind is unreachable until provisioned again.
    expect(await nodeStatus()).toBe('unreachable')
  })

  it('a node cut off the network fails with ANSIBLE_HOST_UNREACHABLE, is retried on the backoff schedule, and the job succeeds once the node is back', async () => {
    await labSetNodeConnected(NODE, false, { instance })
    const jobId = await provision()
    const requeued = await until('the first attempt to be requeued', 180_000, async () => {
      const view = await job(jobId)
      if (view.status === 'succeeded' || view.status === 'failed') throw new Error(`job ended ${view.status} while the node was cut off`)
      return view.status === 'queued' && view.attempt_count === 1 ? view : undefined
    })
    expect(requeued.error_code).toBe('ANSIBLE_HOST_UNREACHABLE')
    const delay = (Date.parse(requeued.run_after!) - Date.parse(requeued.updated_at)) / 1000
    expect(delay).toBeGreaterThanOrEqual(BACKOFF_SECONDS[0] - 0.5)
    expect(delay).toBeLessThanOrEqual(BACKOFF_SECONDS[0] + 1)

    await labSetNodeConnected(NODE, true, { instance })
    const done = await finished(jobId)
    expect({ status: done.status, error: `${done.error_code} ${(done.error_message ?? '').slice(-1500)}` }).toEqual({ status: 'succeeded', error: 'null ' })
    expect(done.attempt_count).toBeGreaterThanOrEqual(2)
    expect(await nodeStatus()).toBe('active')
  })
})
