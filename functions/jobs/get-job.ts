// GET /api/jobs/{id} — one job with its status, attempts, lock and last error.
import { createRoute } from '@hono/zod-openapi'
import { defineFunction } from '../../runtime/http/define-function.js'
import { IdParam, Job } from '../../runtime/contracts/schemas.js'
import { errorResponses } from '../../runtime/contracts/errors.js'

export default defineFunction({
  route: createRoute({
    method: 'get', path: '/api/jobs/{id}', tags: ['Jobs'], operationId: 'getJob', summary: 'Get a job',
    request: { params: IdParam },
    responses: {
      200: { description: 'The job', content: { 'application/json': { schema: Job } } },
      ...errorResponses(400, 401, 404),
    },
  }),
  async handler(c, { jobs }) {
    return c.json(await jobs.get(c.req.valid('param').id) as never, 200)
  },
})
