import { describe, it, expect, beforeEach, afterEach } from 'vitest'
import { createTestControlPlane, type TestControlPlane } from '../support/control-plane.js'
import {
  insertActiveNode, createActiveSite, configureBackupStorage, expectError, row, auditsFor, jobsOfType, type SeededSite,
} from '../support/seed.js'

describe('jobs API (list, get, cancel)', () => {
  let cp: TestControlPlane
  let nodeId: string
  let site: SeededSite

  beforeEach(async () => {
    cp = await createTestControlPlane()
    await cp.login()
    nodeId = await insertActiveNode(cp, { name: 'node-1' })
    site = await createActiveSite(cp, 'alpha', nodeId)
  })
  afterEach(async () => { await cp.close() })

  const status = async (table: string, id: string) => (await row<{ status: string }>(cp, `SELECT status FROM ${table} WHERE id = ?`, [id])).status

  it('lists jobs newest first with filters and cursor pagination, never exposing payloads', async () => {
    const other = await createActiveSite(cp, 'beta', nodeId)
    const purge = await (await cp.request('POST', `/api/environments/${site.productionId}/cache/purge`)).json()
    const res = await cp.request('GET', '/api/jobs')
    expect(res.status).toBe(200)
    const all = await res.json()
    expect(all.items.map((j: { id: string }) => j.id)).toEqual([purge.job_id, other.jobId, site.jobId])
    expect(Object.keys(all.items[0]).sort()).toEqual(['attempt_count', 'created_at', 'environment_id', 'error_code', 'error_message', 'finished_at', 'id',
      'job_type', 'locked_at', 'locked_by', 'max_attempts', 'node_id', 'parent_job_id', 'run_after', 'site_id', 'started_at', 'status', 'updated_at'])
    expect(all.next_cursor).toBeNull()

    const byType = await (await cp.request('GET', '/api/jobs?job_type=cache_purge')).json()
    expect(byType.items.map((j: { id: string }) => j.id)).toEqual([purge.job_id])
    const bySite = await (await cp.request('GET', `/api/jobs?site_id=${other.siteId}`)).json()
    expect(bySite.items.map((j: { id: string }) => j.id)).toEqual([other.jobId])
    const byEnvAndStatus = await (await cp.request('GET', `/api/jobs?environment_id=${site.productionId}&status=succeeded`)).json()
    expect(byEnvAndStatus.items.map((j: { id: string }) => j.id)).toEqual([site.jobId])
    const byNode = await (await cp.request('GET', `/api/jobs?node_id=${nodeId}&status=queued`)).json()
    expect(byNode.items.map((j: { id: string }) => j.id)).toEqual([purge.job_id])

    const first = await (await cp.request('GET', '/api/jobs?limit=2')).json()
    expect(first.items).toHaveLength(2)
    const second = await (await cp.request('GET', `/api/jobs?limit=2&cursor=${first.next_cursor}`)).json()
    expect(second.items.map((j: { id: string }) => j.id)).toEqual([site.jobId])
    expect(second.next_cursor).toBeNull()
    await expectError(await cp.request('GET', '/api/jobs?cursor=not-a-cursor'), 400, 'bad_request')
    await expectError(await cp.request('GET', '/api/jobs?status=sleeping'), 400, 'bad_request')
    await expectError(await cp.request('GET', '/api/jobs?limit=500'), 400, 'bad_request')
  })

  it('gets one job; unknown ids are 404 and malformed ids 400; both need a session', async () => {
    const res = await cp.request('GET', `/api/jobs/${site.jobId}`)
    expect(res.status).toBe(200)
    expect(await res.json()).toMatchObject({ id: site.jobId, job_type: 'site_create', status: 'succeeded', site_id: site.siteId, node_id: nodeId })
    await expectError(await cp.request('GET', '/api/jobs/0b9f1c1e-6a4e-4c47-9b8e-2f5d0c3b7a10'), 404, 'not_found')
    await expectError(await cp.request('GET', '/api/jobs/nope'), 400, 'bad_request')
    await expectError(await cp.request('GET', '/api/jobs', undefined, { cookie: 'session_token=x' }), 401, 'unauthorized')
  })

  it('cancels a queued site_create: job cancelled with JOB_CANCELLED, the new site and environment failed, audited', async () => {
    const created = await (await cp.request('POST', '/api/sites', { name: 'Gamma', slug: 'gamma', node_id: nodeId })).json()
    const newSite = await row<{ id: string; primary_environment_id: string }>(cp, "SELECT * FROM sites WHERE slug = 'gamma'")
    const res = await cp.request('POST', `/api/jobs/${created.job_id}/cancel`)
    expect(res.status).toBe(200)
    expect(await res.json()).toEqual({ success: true, status: 'cancelled' })
    const job = await (await cp.request('GET', `/api/jobs/${created.job_id}`)).json()
    expect(job).toMatchObject({ status: 'cancelled', error_code: 'JOB_CANCELLED', locked_by: null })
    expect(job.finished_at).not.toBeNull()
    expect(await status('sites', newSite.id)).toBe('failed')
    expect(await status('environments', newSite.primary_environment_id)).toBe('failed')
    const admin = await row<{ id: string }>(cp, 'SELECT id FROM users')
    expect(await auditsFor(cp, 'job_cancel')).toMatchObject([{ resource_type: 'job', resource_id: created.job_id, result: 'succeeded', job_id: created.job_id, user_id: admin.id }])
    expect((await auditsFor(cp, 'site_create')).filter((a) => a.job_id === created.job_id).map((a) => a.result)).toEqual(['accepted', 'cancelled'])
    await expectError(await cp.request('POST', `/api/jobs/${created.job_id}/cancel`), 409, 'job_not_cancellable')
    await expectError(await cp.request('POST', `/api/jobs/${site.jobId}/cancel`), 409, 'job_not_cancellable')
    await expectError(await cp.request('POST', '/api/jobs/0b9f1c1e-6a4e-4c47-9b8e-2f5d0c3b7a10/cancel'), 404, 'not_found')
  })

  it('leaves resources a queued job never touched as they are, and fails those a started (requeued) job had moved', async () => {
    const deploy = { source_type: 'git', source_ref: 'https://example.test/site.git#main' }
    const first = await (await cp.request('POST', `/api/environments/${site.productionId}/deploy`, deploy)).json()
    expect((await cp.request('POST', `/api/jobs/${first.job_id}/cancel`)).status).toBe(200)
    expect(await status('sites', site.siteId)).toBe('active')
    expect(await status('environments', site.productionId)).toBe('active')

    const second = await (await cp.request('POST', `/api/environments/${site.productionId}/deploy`, deploy)).json()
    // As after a retryable failure of attempt 1: the start transition ran, the job waits for its backoff.
    const queue = cp.services.jobQueue
    const claimed = await queue.claimNext('test-host:1', { nodes: [], sites: [] })
    expect(claimed).toMatchObject({ outcome: 'running', job: { id: second.job_id } })
    if (claimed.outcome !== 'running') throw new Error('not claimed')
    await queue.fail(claimed.job, { lockedBy: claimed.job.locked_by!, lockedAt: claimed.job.locked_at! }, 'ANSIBLE_HOST_FAILED', 'boom')
    expect(await row(cp, 'SELECT status, attempt_count FROM jobs WHERE id = ?', [second.job_id])).toEqual({ status: 'queued', attempt_count: 1 })
    expect(await status('sites', site.siteId)).toBe('deploying')
    expect((await cp.request('POST', `/api/jobs/${second.job_id}/cancel`)).status).toBe(200)
    expect(await status('sites', site.siteId)).toBe('failed')
    expect(await status('environments', site.productionId)).toBe('failed')
  })

  it('cancelling a pre-operation backup fails the backup, and its dependent job fails at start with PRE_OPERATION_BACKUP_FAILED', async () => {
    await configureBackupStorage(cp)
    const update = await (await cp.request('POST', `/api/environments/${site.productionId}/updates`, { scope: 'core' })).json()
    const [backupJob] = await jobsOfType(cp, 'backup_create')
    const backupId = JSON.parse(backupJob.payload_json).backup_id as string
    expect((await cp.request('POST', `/api/jobs/${backupJob.id}/cancel`)).status).toBe(200)
    expect(await status('backups', backupId)).toBe('failed')
    const queue = cp.services.jobQueue
    expect(await queue.claimNext('test-host:1', { nodes: [], sites: [] })).toMatchObject({
      outcome: 'precondition_failed', job: { id: update.job_id, status: 'failed', error_code: 'PRE_OPERATION_BACKUP_FAILED' },
    })
    expect(await status('sites', site.siteId)).toBe('active')
  })

  it('cancelling queued domain_add and node_provision fails the pending domain and leaves the node unreachable', async () => {
    const domain = await (await cp.request('POST', `/api/environments/${site.productionId}/domains`, { hostname: 'shop.example.test' })).json()
    expect((await cp.request('POST', `/api/jobs/${domain.job_id}/cancel`)).status).toBe(200)
    expect((await row<{ tls_status: string }>(cp, "SELECT tls_status FROM domains WHERE hostname = 'shop.example.test'")).tls_status).toBe('failed')

    const node = await (await cp.request('POST', '/api/nodes', { name: 'node-2', hostname: '192.0.2.20', public_ip: '192.0.2.20' })).json()
    expect((await cp.request('POST', `/api/jobs/${node.job_id}/cancel`)).status).toBe(200)
    expect((await row<{ status: string }>(cp, "SELECT status FROM nodes WHERE name = 'node-2'")).status).toBe('unreachable')
  })
})
