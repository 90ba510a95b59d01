// POST /api/environments/{id}/promote — promote this staging/clone environment into production once both gates are met (env_promote).
import { createRoute } from '@hono/zod-openapi'
import { defineFunction } from '../../runtime/http/define-function.js'
import { IdParam, PromoteRequest, JobAccepted } from '../../runtime/contracts/schemas.js'
import { errorResponses } from '../../runtime/contracts/errors.js'

export default defineFunction({
  route: createRoute({
    method: 'post', path: '/api/environments/{id}/promote', tags: ['Environments'], operationId: 'promoteEnvironment', summary: 'Promote to production',
    request: { params: IdParam, body: { content: { 'application/json': { schema: PromoteRequest } }, required: true } },
    responses: {
      202: { description: 'env_promote accepted; the job runs on the target environment', content: { 'application/json': { schema: JobAccepted } } },
      ...errorResponses(400, 401, 404, 409, 413, 415),
    },
  }),
  async handler(c, { environments, actor }) {
    return c.json(await environments.promote(c.req.valid('param').id, c.req.valid('json'), actor), 202)
  },
})
