// GET /api/jobs/{id} — one job with its status, attempts, lock, last error and task progress.
import { createRoute } from '@hono/zod-openapi'
import { defineFunction } from '../../runtime/http/define-function.js'
import { IdParam, JobDetail } from '../../runtime/contracts/schemas.js'
import { errorResponses } from '../../runtime/contracts/errors.js'

export default defineFunction({
  route: createRoute({
    method: 'get', path: '/api/jobs/{id}', tags: ['Jobs'], operationId: 'getJob', summary: 'Get a job',
    description: '`progress` is the task running now (or the last one), tasks done and the task count of the playbook; '
      + 'GET /api/jobs/{id}/events streams it live.',
    request: { params: IdParam },
    responses: {
      200: { description: 'The job', content: { 'application/json': { schema: JobDetail } } },
      ...errorResponses(400, 401, 404),
    },
  }),
  async handler(c, { jobs, jobEvents }) {
    const id = c.req.valid('param').id
    const job = await jobs.get(id)
    return c.json({ ...job, progress: await jobEvents.progress(id) } as never, 200)
  },
})
