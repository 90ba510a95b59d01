// Test helper: wait for a job to reach a terminal status through GET /api/jobs/{id}.
import type { TestControlPlane } from './control-plane.js'

export interface JobView { id: string; job_type: string; status: string; error_code: string | null; error_message: string | null; attempt_count: number }

export async function waitForJob(cp: TestControlPlane, jobId: string, timeoutMs = 600_000): Promise<JobView> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const res = await cp.request('GET', `/api/jobs/${jobId}`)
    if (res.status !== 200) throw new Error(`GET /api/jobs/${jobId} answered ${res.status}: ${await res.text()}`)
    const job = await res.json() as JobView
    if (job.status === 'succeeded' || job.status === 'failed' || job.status === 'cancelled') return job
    if (Date.now() > deadline) throw new Error(`job ${jobId} still ${job.status} after ${timeoutMs} ms`)
    await new Promise((r) => setTimeout(r, 500))
  }
}

/** The PLAY RECAP counters of the last playbook run of a job, read from the control plane's log lines. */
export function lastRecap(cp: TestControlPlane, jobId: string): { ok: number; changed: number; failed: number } | undefined {
  const recaps = cp.logLines
    .filter((line) => line.includes(jobId))
    .map((line) => { try { return JSON.parse(line) as Record<string, unknown> } catch { return {} } })
    .map((entry) => String(entry.line ?? entry.msg ?? ''))
    .map((text) => /ok=(\d+)\s+changed=(\d+)\s+unreachable=\d+\s+failed=(\d+)/.exec(text))
    .filter((m): m is RegExpExecArray => m !== null)
  const last = recaps[recaps.length - 1]
  return last ? { ok: Number(last[1]), changed: Number(last[2]), failed: Number(last[3]) } : undefined
}
