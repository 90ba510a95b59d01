// GET /api/jobs/{id}/events — Server-Sent Events of a job: what happened so far, then live, until the job ends
// (docs/architecture.md "Live job progress").
import { createRoute, z } from '@hono/zod-openapi'
import { streamSSE } from 'hono/streaming'
import { defineFunction } from '../../runtime/http/define-function.js'
import { IdParam } from '../../runtime/contracts/schemas.js'
import { errorResponses } from '../../runtime/contracts/errors.js'
import { TERMINAL_STATUSES, type JobEvent } from '../../runtime/jobs/job-events.js'

const KEEPALIVE_MS = 15_000

const DESCRIPTION = [
  'A `text/event-stream` of the job. A subscriber first gets every event recorded so far (also for a finished job),',
  'then the live ones; the stream ends after the event that reports the job succeeded, failed or was cancelled.',
  'Each event has `id` (the job\'s event sequence number; send it back as `Last-Event-ID` to resume), a name and a JSON `data`:',
  '`status` {status, error_code, at} — a status change of the job (the first event of a job that has not run yet is',
  'its current status, without an id);',
  '`progress` {task, done, total, result?, attempt, at} — the playbook started (done 0) or a task ended;',
  '`task` {task, n, done, total, handler, attempt, at} — task n of total started (handlers are shown but not counted);',
  '`output` {line, attempt, at} — one output line of the playbook, redacted like the control plane\'s log;',
  '`truncated` {limit_bytes, attempt, at} — the job\'s output went over the stored budget; further lines are left out.',
].join(' ')

function isTerminalStatus(event: JobEvent): boolean {
  return event.kind === 'status' && TERMINAL_STATUSES.has(String(event.data.status))
}

export default defineFunction({
  route: createRoute({
    method: 'get', path: '/api/jobs/{id}/events', tags: ['Jobs'], operationId: 'streamJobEvents', summary: 'Stream a job\'s progress',
    description: DESCRIPTION,
    request: { params: IdParam },
    responses: {
      200: { description: 'The job\'s events as Server-Sent Events', content: { 'text/event-stream': { schema: z.string() } } },
      ...errorResponses(400, 401, 404),
    },
  }),
  async handler(c, { jobs, jobEvents }) {
    const id = c.req.valid('param').id
    await jobs.get(id) // 404 before the stream starts
    const resumeAfter = Number(c.req.header('last-event-id'))
    return streamSSE(c, async (stream) => {
      const queue: JobEvent[] = []
      let wake: (() => void) | null = null
      const notify = () => { const w = wake; wake = null; w?.() }
      // Listen first, then read the history: an event between the two is in both and is sent once (by its seq).
      const unlisten = jobEvents.listen(id, (event) => { queue.push(event); notify() })
      stream.onAbort(notify)
      const keepalive = setInterval(() => { void stream.write(': keepalive\n\n').catch(() => undefined) }, KEEPALIVE_MS)
      try {
        let last = Number.isInteger(resumeAfter) && resumeAfter > 0 ? resumeAfter : 0
        let ended = false
        const send = async (event: JobEvent) => {
          if (event.seq <= last) { if (isTerminalStatus(event)) ended = true; return }
          last = event.seq
          await stream.writeSSE({ event: event.kind, id: String(event.seq), data: JSON.stringify({ ...event.data, at: event.at }) })
          if (isTerminalStatus(event)) ended = true
        }
        const job = await jobs.get(id)
        const history = await jobEvents.history(id)
        for (const event of history) { if (ended) break; await send(event) }
        if (!ended && (TERMINAL_STATUSES.has(job.status) || !history.length)) {
          // A job that ended without a recorded end (its history was pruned, or it ended before history existed), or a
          // job that has not run yet: its current status from the row.
          const terminalNow = TERMINAL_STATUSES.has(job.status)
          if (terminalNow || last === 0) {
            await stream.writeSSE({ event: 'status', data: JSON.stringify({ status: job.status, error_code: job.error_code, at: job.updated_at }) })
          }
          if (terminalNow) ended = true
        }
        while (!ended && !stream.aborted) {
          const event = queue.shift()
          if (event) { await send(event); continue }
          await new Promise<void>((resolve) => { wake = resolve })
        }
      } finally {
        clearInterval(keepalive)
        unlisten()
      }
    })
  },
})
