// vitest global setup of the e2e suite: one lab and ONE provisioned node per run, shared by every e2e file.
// Provisioning takes one to two minutes; doing it once keeps `.ci/run` short as the lifecycle suites grow.
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import type { TestProject } from 'vitest/node'
import { labAuthorize, labDown, labExec, labIsUp, labUp } from '../lab/lab.js'
import { createTestControlPlane } from './control-plane.js'
import { e2eControlPlaneEnv, type E2eRun } from './e2e-run.js'
import { waitForJob } from './jobs.js'
import { readSse, PROVISION_EVENTS_FILE } from './sse.js'
import { PUBLIC_KEY_SECRET } from '../../runtime/ssh/control-plane-key.js'

/** Nodes of the e2e lab: node1 is provisioned for every file; node2 stays bare for tests that need a fresh server. */
const LAB_NODES = 2

export default async function setup(project: TestProject) {
  const instance = process.env.PRESSLUFT_E2E_LAB ?? 'e2e'
  const keep = Boolean(process.env.PRESSLUFT_E2E_KEEP_LAB)
  // Short on purpose: ssh's control sockets live below it and a Unix socket path has at most 107 bytes.
  const dataDir = path.join(os.tmpdir(), `pressluft-e2e-${instance}`)
  const recordFile = path.join(dataDir, 'e2e-run.json')

  let run: E2eRun | undefined
  // PRESSLUFT_E2E_KEEP_LAB=1 keeps lab and control plane after the run, and the next run reuses them (development only).
  if (keep && labIsUp({ instance }) && fs.existsSync(recordFile)) {
    run = JSON.parse(fs.readFileSync(recordFile, 'utf8')) as E2eRun
    console.log(`e2e: reusing lab "${instance}" and its provisioned node ${run.nodeId}`)
  } else {
    await labDown({ instance })
    fs.rmSync(dataDir, { recursive: true, force: true })
    fs.mkdirSync(dataDir, { recursive: true })
    const lab = await labUp({ instance, nodes: LAB_NODES })
    const cp = await createTestControlPlane(e2eControlPlaneEnv(lab), { startScheduler: true }, { dataDir })
    try {
      const pubFile = path.join(dataDir, 'control-plane.pub')
      fs.writeFileSync(pubFile, `${await cp.services.secrets.get(PUBLIC_KEY_SECRET)}\n`)
      await labAuthorize(pubFile, { instance })
      await cp.login()
      const node = lab.nodes[0]
      // The lab's HTTPS services (the git server of the deploy and update tests) carry certificates of the lab CA: node1
      // trusts it from the start, as a real node trusts the public CAs. Installed later, it would change the system CA
      // bundle that WordPress core links to, and node_provision would rightly report that change on its next run.
      await labExec(node.name, ['sh', '-c', 'cp /usr/local/share/pressluft-lab/acme-ca.crt /usr/local/share/ca-certificates/pressluft-lab-ca.crt && update-ca-certificates'], { instance })
      const started = Date.now()
      const res = await cp.request('POST', '/api/nodes', { name: 'node1', hostname: node.ip, public_ip: node.ip })
      if (res.status !== 202) throw new Error(`POST /api/nodes answered ${res.status}: ${await res.text()}`)
      const { job_id } = await res.json() as { job_id: string }
      // What an operator watching the provision live sees (GET /api/jobs/{id}/events); tests/e2e/job-progress.test.ts checks it.
      // A broken stream fails only tests/e2e/job-progress.test.ts, never the setup every e2e file needs.
      const stopStream = new AbortController()
      const stream = cp.request('GET', `/api/jobs/${job_id}/events`)
        .then((events) => readSse(events, 900_000, undefined, stopStream.signal))
        .catch((error: unknown) => ({ events: [], arrivals: [], closedByServer: false, error: String(error) }))
      const job = await waitForJob(cp, job_id, 900_000)
      // The stream ends with the job; one that is still open 10 s later is recorded as not closed (the test fails on it).
      setTimeout(() => stopStream.abort(), 10_000).unref()
      fs.writeFileSync(path.join(dataDir, PROVISION_EVENTS_FILE), JSON.stringify(await stream), { mode: 0o600 })
      if (job.status !== 'succeeded') throw new Error(`e2e: provisioning node1 ${job.status}: ${job.error_code} ${job.error_message}`)
      const nodes = await (await cp.request('GET', '/api/nodes')).json() as { items: { id: string }[] }
      run = { instance, dataDir, nodeId: nodes.items[0].id, provisionJobId: job_id, provisionSeconds: (Date.now() - started) / 1000 }
      fs.writeFileSync(recordFile, JSON.stringify(run))
      console.log(`e2e: node1 provisioned in ${run.provisionSeconds} s`)
    } finally {
      await cp.close()
    }
  }
  project.provide('e2eRun', run)

  return async () => {
    if (keep) return
    await labDown({ instance })
    fs.rmSync(dataDir, { recursive: true, force: true })
  }
}
