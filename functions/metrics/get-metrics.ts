// GET /api/metrics — running/queued jobs, active nodes and sites, counted from the database at request time.
import { createRoute } from '@hono/zod-openapi'
import { defineFunction } from '../../runtime/http/define-function.js'
import { Metrics } from '../../runtime/contracts/schemas.js'
import { errorResponses } from '../../runtime/contracts/errors.js'

export default defineFunction({
  route: createRoute({
    method: 'get', path: '/api/metrics', tags: ['Metrics'], operationId: 'getMetrics', summary: 'Platform counters',
    responses: { 200: { description: 'Current counts', content: { 'application/json': { schema: Metrics } } }, ...errorResponses(401) },
  }),
  async handler(c, { metrics }) {
    return c.json(await metrics.current(), 200)
  },
})
