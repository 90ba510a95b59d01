// POST /api/environments/{id}/drift-check — compare production's protected data with this environment's baseline (drift_check).
import { createRoute } from '@hono/zod-openapi'
import { defineFunction } from '../../runtime/http/define-function.js'
import { IdParam, JobAccepted } from '../../runtime/contracts/schemas.js'
import { errorResponses } from '../../runtime/contracts/errors.js'

export default defineFunction({
  route: createRoute({
    method: 'post', path: '/api/environments/{id}/drift-check', tags: ['Environments'], operationId: 'checkEnvironmentDrift', summary: 'Run a drift check',
    request: { params: IdParam },
    responses: {
      202: { description: 'drift_check accepted, or the id of the one already queued', content: { 'application/json': { schema: JobAccepted } } },
      ...errorResponses(400, 401, 404, 409),
    },
  }),
  async handler(c, { environments, actor }) {
    return c.json(await environments.driftCheck(c.req.valid('param').id, actor), 202)
  },
})
