import { describe, it, expect, beforeAll, afterAll } from 'vitest'
import { engineHarness, until, type EngineHarness } from './engine-support.js'
import { waitForJob } from '../support/jobs.js'
import { configureBackupStorage } from '../support/seed.js'
import { rememberSecret } from '../support/log-audit.js'
import { startReceiver, verifyPressluftSignature, type Receiver, type ReceivedRequest } from '../support/webhook-receiver.js'

interface Hook { id: string; secret: string }

describe('webhook deliveries of jobs run by ansible-playbook (fixture playbooks)', () => {
  let h: EngineHarness
  let receiver: Receiver
  let jobsHook: Hook
  let allHook: Hook
  beforeAll(async () => {
    receiver = await startReceiver()
    h = await engineHarness({ PRESSLUFT_WEBHOOK_ALLOW_LOOPBACK: 'true' })
    const register = async (body: Record<string, unknown>) => {
      const res = await h.cp.request('POST', '/api/webhooks', body)
      expect(res.status).toBe(201)
      const hook = await res.json() as Hook
      rememberSecret(hook.secret)
      return hook
    }
    jobsHook = await register({ url: `${receiver.url}/jobs`, events: ['job.succeeded', 'job.failed'], description: 'job outcomes' })
    allHook = await register({ url: `${receiver.url}/all`, events: ['*'] })
    await h.cp.scheduler!.start()
  })
  afterAll(async () => { await h?.close(); await receiver?.close() })

  const bodyOf = (r: ReceivedRequest) => JSON.parse(r.body) as { id: string; type: string; created_at: string; data: Record<string, any> }
  const receivedFor = (path: string, jobId: string) => receiver.received.filter((r) => r.path === path && bodyOf(r).data.job?.id === jobId)
  async function shownJob(jobId: string) {
    const { progress: _progress, ...job } = await (await h.cp.request('GET', `/api/jobs/${jobId}`)).json()
    return job
  }

  it('a job that succeeds and one that fails each reach the subscribed endpoints as signed deliveries with the job as the API shows it', async () => {
    h.use('cache-purge.yml', 'success.yml')
    const ok = (await (await h.cp.request('POST', `/api/environments/${h.site.productionId}/cache/purge`)).json()).job_id as string
    expect((await waitForJob(h.cp, ok, 60_000)).status).toBe('succeeded')
    h.use('cache-purge.yml', 'marker.yml')
    const bad = (await (await h.cp.request('POST', `/api/environments/${h.site.productionId}/cache/purge`)).json()).job_id as string
    expect(await waitForJob(h.cp, bad, 60_000)).toMatchObject({ status: 'failed', error_code: 'DNS_MISMATCH' })
    await until(() => receivedFor('/jobs', bad).length === 1 && receivedFor('/all', bad).length === 1, 15_000, 'deliveries')

    for (const [jobId, event] of [[ok, 'job.succeeded'], [bad, 'job.failed']] as const) {
      for (const [path, hook] of [['/jobs', jobsHook], ['/all', allHook]] as const) {
        const [request] = receivedFor(path, jobId)
        expect(verifyPressluftSignature(hook.secret, request.body, request.headers)).toBe(true)
        const body = bodyOf(request)
        expect(body).toMatchObject({ type: event, id: request.headers['pressluft-delivery'] })
        expect(request.headers['pressluft-event']).toBe(event)
        expect(Number(request.headers['pressluft-timestamp'])).toBeGreaterThan(Date.now() / 1000 - 120)
        expect(body.data.job).toEqual(await shownJob(jobId))
      }
    }
    const failedBody = bodyOf(receivedFor('/jobs', bad)[0])
    expect(failedBody.data.job).toMatchObject({ status: 'failed', error_code: 'DNS_MISMATCH' })
    expect(failedBody.data.job.error_message).toContain('PRESSLUFT_ERROR=DNS_MISMATCH')

    await until(async () => {
      const items = (await (await h.cp.request('GET', `/api/webhooks/${jobsHook.id}/deliveries`)).json()).items as { job_id: string; status: string }[]
      return items.filter((d) => [ok, bad].includes(d.job_id) && d.status === 'succeeded').length === 2
    }, 10_000, 'delivery records')
    const items = (await (await h.cp.request('GET', `/api/webhooks/${jobsHook.id}/deliveries`)).json()).items as { job_id: string; event: string; status: string; attempts: { response_code: number; duration_ms: number }[] }[]
    expect(items.filter((d) => [ok, bad].includes(d.job_id)).map((d) => [d.job_id, d.event, d.status, d.attempts.map((a) => a.response_code)]).sort())
      .toEqual([[ok, 'job.succeeded', 'succeeded', [200]], [bad, 'job.failed', 'succeeded', [200]]].sort())
  })

  it('a backup_create that succeeds raises backup.completed with the backup as the backups list shows it, only for the endpoint subscribed to it', async () => {
    await configureBackupStorage(h.cp)
    h.use('backup-create.yml', 'result.yml')
    const jobId = (await (await h.cp.request('POST', `/api/environments/${h.site.productionId}/backups`, { backup_scope: 'full' })).json()).job_id as string
    expect((await waitForJob(h.cp, jobId, 60_000)).status).toBe('succeeded')
    await until(() => receivedFor('/all', jobId).length === 2 && receivedFor('/jobs', jobId).length === 1, 15_000, 'backup deliveries')

    const completed = receivedFor('/all', jobId).find((r) => bodyOf(r).type === 'backup.completed')!
    expect(verifyPressluftSignature(allHook.secret, completed.body, completed.headers)).toBe(true)
    const { items } = await (await h.cp.request('GET', `/api/environments/${h.site.productionId}/backups`)).json()
    const data = bodyOf(completed).data
    expect(data.backup).toEqual(items.find((b: { id: string }) => b.id === data.backup.id))
    expect(data.backup).toMatchObject({ status: 'completed', checksum: `sha256:${'a'.repeat(64)}`, size_bytes: 4096 })
    expect(data.job).toEqual(await shownJob(jobId))
    expect(receivedFor('/all', jobId).map((r) => bodyOf(r).type).sort()).toEqual(['backup.completed', 'job.succeeded'])
    // The job-outcomes endpoint is not subscribed to backup events.
    expect(receivedFor('/jobs', jobId).map((r) => bodyOf(r).type)).toEqual(['job.succeeded'])
    expect(h.cp.logLines.some((l) => l.includes(jobsHook.secret) || l.includes(allHook.secret))).toBe(false)
  })
})
