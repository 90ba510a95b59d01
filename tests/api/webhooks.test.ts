import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { describe, it, expect, beforeAll, afterAll } from 'vitest'
import { createTestControlPlane, type TestControlPlane } from '../support/control-plane.js'
import { insertActiveNode, createActiveSite, expectError, auditsFor, type SeededSite } from '../support/seed.js'
import { waitForJob } from '../support/jobs.js'
import { rememberSecret } from '../support/log-audit.js'
import { startReceiver, verifyPressluftSignature, type Receiver } from '../support/webhook-receiver.js'
import type { JobOutcome, JobRunner } from '../../runtime/jobs/job-runner.js'

const succeed: JobRunner = (async (): Promise<JobOutcome> => ({ ok: true, result: null })) as unknown as JobRunner

async function until(predicate: () => Promise<boolean> | boolean, timeoutMs = 15_000, label = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${label}`)
    await new Promise((r) => setTimeout(r, 25))
  }
}

interface Delivery { id: string; event: string; status: string; attempt_count: number; max_attempts: number; last_response_code: number | null; last_error: string | null; next_attempt_at: string | null; job_id: string; attempts: { attempt: number; response_code: number | null; duration_ms: number; error: string | null; started_at: string }[] }

async function deliveriesOf(cp: TestControlPlane, webhookId: string): Promise<Delivery[]> {
  const res = await cp.request('GET', `/api/webhooks/${webhookId}/deliveries`)
  expect(res.status).toBe(200)
  return (await res.json()).items
}

async function register(cp: TestControlPlane, body: Record<string, unknown>): Promise<{ id: string; secret: string }> {
  const res = await cp.request('POST', '/api/webhooks', body)
  expect(res.status, await res.clone().text()).toBe(201)
  const created = await res.json()
  rememberSecret(created.secret)
  return created
}

describe('webhook endpoints', () => {
  let cp: TestControlPlane
  let receiver: Receiver
  let site: SeededSite
  beforeAll(async () => {
    receiver = await startReceiver()
    cp = await createTestControlPlane({
      PRESSLUFT_POLL_INTERVAL_MS: '60000', PRESSLUFT_WEBHOOK_ALLOW_LOOPBACK: 'true', PRESSLUFT_WEBHOOK_RETRY_SECONDS: '1,1', PRESSLUFT_WEBHOOK_TIMEOUT_SECONDS: '1',
    }, { jobRunner: succeed })
    await cp.login()
    site = await createActiveSite(cp, 'hooks', await insertActiveNode(cp, { name: 'node-1' }))
    await cp.scheduler!.start()
  })
  afterAll(async () => { await cp?.close(); await receiver?.close() })

  async function purge(): Promise<string> {
    const res = await cp.request('POST', `/api/environments/${site.productionId}/cache/purge`)
    expect(res.status).toBe(202)
    const { job_id } = await res.json()
    expect((await waitForJob(cp, job_id, 10_000)).status).toBe('succeeded')
    return job_id
  }

  it('returns a generated signing secret once at creation; list, deliveries, database and log never show it; the audit row names no URL', async () => {
    const res = await cp.request('POST', '/api/webhooks', { url: `${receiver.url}/secret-check?token=abc`, events: ['job.succeeded', 'job.succeeded'], description: 'chat' })
    expect(res.status).toBe(201)
    const created = await res.json()
    rememberSecret(created.secret)
    expect(created).toMatchObject({ url: `${receiver.url}/secret-check?token=abc`, events: ['job.succeeded'], description: 'chat' })
    expect(created.secret).toMatch(/^whsec_[A-Za-z0-9_-]{43}$/)

    const jobId = await purge()
    await until(async () => (await deliveriesOf(cp, created.id)).some((d) => d.job_id === jobId && d.status === 'succeeded'), 10_000, 'delivery')
    const list = await (await cp.request('GET', '/api/webhooks')).text()
    expect(list).toContain(created.id)
    expect(list).not.toContain(created.secret)
    expect(JSON.parse(list).items.find((w: { id: string }) => w.id === created.id)).toEqual({
      id: created.id, url: created.url, events: ['job.succeeded'], description: 'chat', created_at: created.created_at, updated_at: created.updated_at,
    })
    expect(await (await cp.request('GET', `/api/webhooks/${created.id}/deliveries`)).text()).not.toContain(created.secret)
    const stored = await cp.services.db.execute({ sql: 'SELECT * FROM webhooks', args: [] })
    expect(JSON.stringify(stored.rows)).not.toContain(created.secret)
    expect(await cp.services.secrets.get(`webhooks/${created.id}/signing_secret`)).toBe(created.secret)
    expect(cp.logLines.some((l) => l.includes(created.secret))).toBe(false)
    expect(cp.logLines.some((l) => l.includes('webhook delivered') && l.includes(created.id))).toBe(true)
    expect(cp.logLines.some((l) => l.includes('token=abc'))).toBe(false)
    const [audit] = (await auditsFor(cp, 'webhook_create')).filter((a) => a.resource_id === created.id)
    expect(audit).toMatchObject({ resource_type: 'settings', result: 'succeeded' })
    expect(audit.details).toEqual({ webhook_id: created.id, events: ['job.succeeded'], secret_source: 'generated' })
  })

  it('signs with a secret the operator set (write-only); a receiver answering 500 then 200 gets a retry with the same delivery id and body, and the record shows both codes', async () => {
    const secret = 'operator-chosen-secret-0123456789'
    receiver.script('/flaky', [500])
    const hook = await register(cp, { url: `${receiver.url}/flaky`, events: ['job.succeeded'], secret })
    expect(hook.secret).toBe(secret)
    const jobId = await purge()
    await until(async () => (await deliveriesOf(cp, hook.id))[0]?.status === 'succeeded', 10_000, 'retried delivery')

    const [delivery] = await deliveriesOf(cp, hook.id)
    expect(delivery).toMatchObject({ event: 'job.succeeded', job_id: jobId, status: 'succeeded', attempt_count: 2, max_attempts: 3, last_response_code: 200, last_error: null, next_attempt_at: null })
    expect(delivery.attempts.map((a) => [a.attempt, a.response_code, a.error])).toEqual([[1, 500, 'the receiver answered 500'], [2, 200, null]])
    expect(Date.parse(delivery.attempts[1].started_at) - Date.parse(delivery.attempts[0].started_at)).toBeGreaterThanOrEqual(1000)

    const got = receiver.received.filter((r) => r.path === '/flaky')
    expect(got).toHaveLength(2)
    expect(got[0].body).toBe(got[1].body)
    for (const request of got) {
      expect(request.headers['pressluft-delivery']).toBe(delivery.id)
      expect(request.headers['pressluft-event']).toBe('job.succeeded')
      expect(request.headers['content-type']).toBe('application/json')
      expect(verifyPressluftSignature(secret, request.body, request.headers)).toBe(true)
      expect(verifyPressluftSignature('another-secret-of-enough-length', request.body, request.headers)).toBe(false)
    }
    const body = JSON.parse(got[0].body)
    expect(body).toMatchObject({ id: delivery.id, type: 'job.succeeded' })
    // The job as GET /api/jobs/{id} shows it; live progress (a running job's) is not part of a finished job's event.
    const { progress: _progress, ...shown } = await (await cp.request('GET', `/api/jobs/${jobId}`)).json()
    expect(body.data.job).toEqual(shown)
    expect(cp.logLines.some((l) => l.includes(secret))).toBe(false)
    const [audit] = (await auditsFor(cp, 'webhook_create')).filter((a) => a.resource_id === hook.id)
    expect(audit.details).toMatchObject({ secret_source: 'given' })
  })

  it('rejects a signature whose timestamp is older than the tolerance (the documented replay check)', async () => {
    const got = receiver.received.find((r) => r.path === '/flaky')!
    const secret = 'operator-chosen-secret-0123456789'
    expect(verifyPressluftSignature(secret, got.body, got.headers)).toBe(true)
    const old = Math.floor(Date.now() / 1000) - 600
    const { signature } = await import('../../runtime/webhooks/webhook-events.js')
    const replayed = { ...got.headers, 'pressluft-timestamp': String(old), 'pressluft-signature': `v1=${signature(secret, old, got.body)}` }
    expect(verifyPressluftSignature(secret, got.body, replayed)).toBe(false)
    expect(verifyPressluftSignature(secret, got.body, replayed, 3600)).toBe(true)
    expect(verifyPressluftSignature(secret, `${got.body} `, got.headers)).toBe(false)
  })

  it('gives up after max_attempts and records every failed try; a receiver that does not answer times out per try without holding up jobs', async () => {
    receiver.hang('/hang')
    const hook = await register(cp, { url: `${receiver.url}/hang`, events: ['*'] })
    const first = await purge()
    // The job engine is not waiting for the receiver: a second job finishes while the first job's delivery is still
    // being tried (three tries of 1 s with 1 s between them take about 5 s).
    const second = await purge()
    expect((await deliveriesOf(cp, hook.id)).find((d) => d.job_id === first)).toMatchObject({ status: 'pending' })
    await until(async () => (await deliveriesOf(cp, hook.id)).filter((d) => d.status === 'failed').length === 2, 20_000, 'failed deliveries')
    const deliveries = await deliveriesOf(cp, hook.id)
    expect(deliveries.map((d) => d.job_id).sort()).toEqual([first, second].sort())
    for (const d of deliveries) {
      expect(d).toMatchObject({ status: 'failed', attempt_count: 3, last_response_code: null })
      expect(d.attempts).toHaveLength(3)
      for (const a of d.attempts) {
        expect(a.error).toContain('no complete answer within 1000 ms')
        expect(a.duration_ms).toBeGreaterThanOrEqual(950)
        expect(a.duration_ms).toBeLessThan(3000)
      }
    }
    await cp.request('DELETE', `/api/webhooks/${hook.id}`)
  })

  it('deletes an endpoint with its deliveries and its secret; a deleted or unknown endpoint is 404', async () => {
    const hook = await register(cp, { url: `${receiver.url}/gone`, events: ['job.failed'] })
    expect(cp.services.secrets.has(`webhooks/${hook.id}/signing_secret`)).toBe(true)
    const res = await cp.request('DELETE', `/api/webhooks/${hook.id}`)
    expect(res.status).toBe(200)
    expect(await res.json()).toEqual({ success: true })
    expect(cp.services.secrets.has(`webhooks/${hook.id}/signing_secret`)).toBe(false)
    expect((await (await cp.request('GET', '/api/webhooks')).json()).items.map((w: { id: string }) => w.id)).not.toContain(hook.id)
    await expectError(await cp.request('DELETE', `/api/webhooks/${hook.id}`), 404, 'not_found')
    await expectError(await cp.request('GET', `/api/webhooks/${hook.id}/deliveries`), 404, 'not_found')
    await expectError(await cp.request('GET', '/api/webhooks/not-a-uuid/deliveries'), 400, 'bad_request')
    expect((await auditsFor(cp, 'webhook_delete')).some((a) => a.resource_id === hook.id)).toBe(true)
  })

  it.each([
    [{ url: 'ftp://example.com/hook', events: ['job.failed'] }, 'url'],
    [{ url: 'https://user:pass@example.com/hook', events: ['job.failed'] }, 'url'],
    [{ url: 'http://169.254.169.254/latest/meta-data', events: ['job.failed'] }, 'url'],
    [{ url: 'http://[fe80::1]/hook', events: ['job.failed'] }, 'url'],
    [{ url: 'http://[::ffff:169.254.169.254]/hook', events: ['job.failed'] }, 'url'],
    [{ url: 'http://100.100.100.200/hook', events: ['job.failed'] }, 'url'],
    [{ url: 'http://0.0.0.0:8080/hook', events: ['job.failed'] }, 'url'],
    [{ url: 'https://example.com/hook#frag', events: ['job.failed'] }, 'url'],
    [{ url: 'https://example.com/hook', events: [] }, 'events'],
    [{ url: 'https://example.com/hook', events: ['site.deleted'] }, 'events.0'],
    [{ url: 'https://example.com/hook' }, 'events'],
    [{ url: 'https://example.com/hook', events: ['job.failed'], secret: 'short' }, 'secret'],
    [{ url: 'https://example.com/hook', events: ['job.failed'], secret: 'has a space but is long enough' }, 'secret'],
    [{ url: 'https://example.com/hook', events: ['job.failed'], extra: 1 }, ''],
  ])('refuses %j with a structured 400 naming the field', async (body, field) => {
    const error = await expectError(await cp.request('POST', '/api/webhooks', body), 400, 'bad_request')
    expect(error.details?.issues.map((i: { path: string }) => i.path)).toContain(field)
  })
})

describe('webhook address rules and restarts', () => {
  it('refuses loopback receivers unless PRESSLUFT_WEBHOOK_ALLOW_LOOPBACK is set', async () => {
    const cp = await createTestControlPlane()
    try {
      await cp.login()
      for (const url of ['http://127.0.0.1:9/hook', 'http://localhost:9/hook', 'http://[::1]:9/hook', 'http://[::ffff:127.0.0.1]:9/hook', 'http://api.localhost/hook']) {
        const error = await expectError(await cp.request('POST', '/api/webhooks', { url, events: ['*'] }), 400, 'bad_request')
        expect(error.details?.issues[0]).toMatchObject({ path: 'url' })
        expect(error.details?.issues[0].message).toContain('PRESSLUFT_WEBHOOK_ALLOW_LOOPBACK')
      }
      // A private-network receiver (chat or monitoring inside the operator's network) is accepted.
      expect((await cp.request('POST', '/api/webhooks', { url: 'http://10.1.2.3/hook', events: ['*'] })).status).toBe(201)
    } finally {
      await cp.close()
    }
  })

  it('keeps a pending delivery across a restart: the next control plane on the same data sends it', async () => {
    const receiver = await startReceiver()
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pressluft-webhook-restart-'))
    const env = { PRESSLUFT_POLL_INTERVAL_MS: '60000', PRESSLUFT_WEBHOOK_ALLOW_LOOPBACK: 'true', PRESSLUFT_WEBHOOK_RETRY_SECONDS: '2' }
    try {
      receiver.script('/restart', [503])
      const first = await createTestControlPlane(env, { jobRunner: succeed }, { dataDir: dir })
      await first.login()
      const site = await createActiveSite(first, 'restart', await insertActiveNode(first, { name: 'node-r' }))
      const hook = await register(first, { url: `${receiver.url}/restart`, events: ['job.succeeded'] })
      await first.scheduler!.start()
      const { job_id } = await (await first.request('POST', `/api/environments/${site.productionId}/cache/purge`)).json()
      await until(async () => (await deliveriesOf(first, hook.id))[0]?.attempt_count === 1, 10_000, 'first try')
      await first.close()
      const delivered = await (async () => {
        const again = await createTestControlPlane(env, { jobRunner: succeed }, { dataDir: dir })
        try {
          await again.login()
          const [before] = await deliveriesOf(again, hook.id)
          expect(before).toMatchObject({ status: 'pending', attempt_count: 1, last_response_code: 503 })
          await again.scheduler!.start()
          await until(async () => (await deliveriesOf(again, hook.id))[0]?.status === 'succeeded', 10_000, 'delivery after restart')
          return (await deliveriesOf(again, hook.id))[0]
        } finally {
          await again.close()
        }
      })()
      expect(delivered).toMatchObject({ job_id, status: 'succeeded', attempt_count: 2 })
      expect(delivered.attempts.map((a) => a.response_code)).toEqual([503, 200])
      const got = receiver.received.filter((r) => r.path === '/restart')
      expect(got.map((r) => r.headers['pressluft-delivery'])).toEqual([delivered.id, delivered.id])
      expect(got.every((r) => verifyPressluftSignature(hook.secret, r.body, r.headers))).toBe(true)
    } finally {
      await receiver.close()
      fs.rmSync(dir, { recursive: true, force: true })
    }
  })
})
