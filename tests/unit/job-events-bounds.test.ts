// The job event history's bounds: the per-job byte budget (output beyond it becomes one `truncated` event) and the
// pruning of old finished jobs' histories (runtime/jobs/job-events.ts, docs/decisions.md "Job event history").
import { describe, it, expect, beforeAll, afterAll } from 'vitest'
import { createTestControlPlane, type TestControlPlane } from '../support/control-plane.js'
import { insertActiveNode } from '../support/seed.js'
import { insertJob } from '../../runtime/store/jobs-insert.js'
import { JobEventHub } from '../../runtime/jobs/job-events.js'
import { JobStatusEvents, type JobStatus } from '../../runtime/jobs/job-status-events.js'

describe('job event history bounds', () => {
  let cp: TestControlPlane
  let nodeId: string
  beforeAll(async () => {
    cp = await createTestControlPlane()
    nodeId = await insertActiveNode(cp)
  })
  afterAll(async () => { await cp.close() })

  const newJob = () => insertJob(cp.services.db, { job_type: 'node_provision', site_id: null, environment_id: null, node_id: nodeId, payload: {}, requested_by: null, max_attempts: 1 })
  const stored = async (jobId: string) => Number((await cp.services.db.execute({ sql: 'SELECT COUNT(*) AS n FROM job_events WHERE job_id = ?', args: [jobId] })).rows[0].n)
  const change = (jobId: string, status: JobStatus) => ({ jobId, jobType: 'node_provision', status, errorCode: null, at: new Date().toISOString() })

  it('keeps at most the byte budget of output, says once that it truncated, and still records tasks and the end', async () => {
    const statuses = new JobStatusEvents()
    const hub = new JobEventHub(cp.services.db, cp.services.logger, statuses, { maxBytesPerJob: 4000 })
    const jobId = await newJob()
    statuses.emit(change(jobId, 'running'))
    hub.beginAttempt(jobId, 1)
    hub.ansible(jobId, { event: 'start', total: 1 }, (t) => t)
    for (let i = 0; i < 200; i++) hub.output(jobId, `line ${i} ${'x'.repeat(90)}`)
    hub.ansible(jobId, { event: 'task', name: 'Late task', n: 1, total: 1, handler: false }, (t) => t)
    hub.ansible(jobId, { event: 'task_end', n: 1, status: 'ok' }, (t) => t)
    statuses.emit(change(jobId, 'succeeded'))
    await hub.flush()
    const history = await hub.history(jobId)
    const outputs = history.filter((e) => e.kind === 'output')
    expect(outputs.length).toBeGreaterThan(10)
    expect(outputs.length).toBeLessThan(40)
    expect(history.filter((e) => e.kind === 'truncated')).toHaveLength(1)
    expect(history.slice(-3).map((e) => e.kind)).toEqual(['task', 'progress', 'status'])
    expect(history.at(-1)!.data).toMatchObject({ status: 'succeeded' })
    expect(await stored(jobId)).toBe(history.length)
    expect(await hub.progress(jobId)).toEqual({ task: 'Late task', done: 1, total: 1 })
    await hub.close()
  })

  it('keeps the histories of only the newest finished jobs', async () => {
    const statuses = new JobStatusEvents()
    const hub = new JobEventHub(cp.services.db, cp.services.logger, statuses, { keepFinishedJobs: 2, pruneEvery: 1 })
    const ids: string[] = []
    for (let i = 0; i < 4; i++) {
      const jobId = await newJob()
      ids.push(jobId)
      statuses.emit(change(jobId, 'running'))
      hub.output(jobId, `output of job ${i}`)
      await cp.services.db.execute({ sql: "UPDATE jobs SET status = 'succeeded', finished_at = ? WHERE id = ?", args: [new Date(Date.now() + i * 1000).toISOString(), jobId] })
      statuses.emit(change(jobId, 'succeeded'))
      await hub.flush()
    }
    expect(await Promise.all(ids.map(stored))).toEqual([0, 0, 3, 3])
    // A pruned job has no progress and an empty history.
    const fresh = new JobEventHub(cp.services.db, cp.services.logger, new JobStatusEvents())
    expect(await fresh.history(ids[0])).toEqual([])
    await hub.close()
  })
})
