// POST /api/sites/{id}/environments — clone an environment of the site into a new staging/clone environment (env_create).
import { createRoute } from '@hono/zod-openapi'
import { defineFunction } from '../../runtime/http/define-function.js'
import { IdParam, CreateEnvironmentRequest, JobAccepted } from '../../runtime/contracts/schemas.js'
import { errorResponses } from '../../runtime/contracts/errors.js'

export default defineFunction({
  route: createRoute({
    method: 'post', path: '/api/sites/{id}/environments', tags: ['Environments'], operationId: 'createEnvironment', summary: 'Create an environment',
    request: { params: IdParam, body: { content: { 'application/json': { schema: CreateEnvironmentRequest } }, required: true } },
    responses: {
      202: { description: 'env_create accepted', content: { 'application/json': { schema: JobAccepted } } },
      ...errorResponses(400, 401, 404, 409, 413, 415),
    },
  }),
  async handler(c, { environments, actor }) {
    return c.json(await environments.create(c.req.valid('param').id, c.req.valid('json'), actor), 202)
  },
})
