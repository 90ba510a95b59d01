// GET /api/jobs — page through jobs, newest first, filtered by status, type, site, environment or node.
import { createRoute } from '@hono/zod-openapi'
import { defineFunction } from '../../runtime/http/define-function.js'
import { Job, JobsQuery, page } from '../../runtime/contracts/schemas.js'
import { errorResponses } from '../../runtime/contracts/errors.js'

const JobPage = page(Job, 'JobPage')

export default defineFunction({
  route: createRoute({
    method: 'get', path: '/api/jobs', tags: ['Jobs'], operationId: 'listJobs', summary: 'List jobs',
    request: { query: JobsQuery },
    responses: {
      200: { description: 'A page of jobs (created_at DESC, id DESC)', content: { 'application/json': { schema: JobPage } } },
      ...errorResponses(400, 401),
    },
  }),
  async handler(c, { jobs }) {
    return c.json(await jobs.list(c.req.valid('query')) as never, 200)
  },
})
