// GET /api/environments/{id} — one environment.
import { createRoute } from '@hono/zod-openapi'
import { defineFunction } from '../../runtime/http/define-function.js'
import { IdParam, Environment } from '../../runtime/contracts/schemas.js'
import { errorResponses } from '../../runtime/contracts/errors.js'

export default defineFunction({
  route: createRoute({
    method: 'get', path: '/api/environments/{id}', tags: ['Environments'], operationId: 'getEnvironment', summary: 'Get an environment',
    request: { params: IdParam },
    responses: { 200: { description: 'The environment', content: { 'application/json': { schema: Environment } } }, ...errorResponses(400, 401, 404) },
  }),
  async handler(c, { environments }) {
    return c.json(await environments.get(c.req.valid('param').id), 200)
  },
})
