// POST /api/environments/{id}/deploy — build a release from a git ref or an uploaded artifact and switch to it (env_deploy).
import { createRoute } from '@hono/zod-openapi'
import { defineFunction } from '../../runtime/http/define-function.js'
import { IdParam, DeployRequest, JobAccepted } from '../../runtime/contracts/schemas.js'
import { errorResponses } from '../../runtime/contracts/errors.js'

export default defineFunction({
  route: createRoute({
    method: 'post', path: '/api/environments/{id}/deploy', tags: ['Environments'], operationId: 'deployEnvironment', summary: 'Deploy code',
    request: { params: IdParam, body: { content: { 'application/json': { schema: DeployRequest } }, required: true } },
    responses: {
      202: { description: 'env_deploy accepted', content: { 'application/json': { schema: JobAccepted } } },
      ...errorResponses(400, 401, 404, 409, 413, 415),
    },
  }),
  async handler(c, { environments, actor }) {
    return c.json(await environments.deploy(c.req.valid('param').id, c.req.valid('json'), actor), 202)
  },
})
