// POST /api/environments/{id}/reset — return a failed environment to active once the reset checks pass (synchronous).
import { createRoute } from '@hono/zod-openapi'
import { defineFunction } from '../../runtime/http/define-function.js'
import { IdParam, ResetResponse } from '../../runtime/contracts/schemas.js'
import { errorResponses } from '../../runtime/contracts/errors.js'

export default defineFunction({
  route: createRoute({
    method: 'post', path: '/api/environments/{id}/reset', tags: ['Environments'], operationId: 'resetEnvironment', summary: 'Reset a failed environment',
    request: { params: IdParam },
    responses: {
      200: { description: 'The environment is active again', content: { 'application/json': { schema: ResetResponse } } },
      ...errorResponses(400, 401, 404, 409),
    },
  }),
  async handler(c, { environments, actor }) {
    return c.json(await environments.reset(c.req.valid('param').id, actor), 200)
  },
})
