// PUT /api/environments/{id}/basic-auth — set the environment's HTTP basic auth (password write-only); env_protection applies it.
import { createRoute } from '@hono/zod-openapi'
import { defineFunction } from '../../runtime/http/define-function.js'
import { IdParam, BasicAuthRequest, JobAccepted } from '../../runtime/contracts/schemas.js'
import { errorResponses } from '../../runtime/contracts/errors.js'

export default defineFunction({
  route: createRoute({
    method: 'put', path: '/api/environments/{id}/basic-auth', tags: ['Environments'], operationId: 'setEnvironmentBasicAuth',
    summary: 'Set HTTP basic auth',
    description: 'Stores the setting (the password only as a hash, never returned) and accepts env_protection, which applies it on the node. '
      + 'The node itself (loopback and its public address) and the ACME challenge path are not asked for credentials.',
    request: { params: IdParam, body: { content: { 'application/json': { schema: BasicAuthRequest } }, required: true } },
    responses: {
      202: { description: 'Setting stored, env_protection accepted', content: { 'application/json': { schema: JobAccepted } } },
      ...errorResponses(400, 401, 404, 409, 413, 415),
    },
  }),
  async handler(c, { environments, actor }) {
    return c.json(await environments.setBasicAuth(c.req.valid('param').id, c.req.valid('json'), actor), 202)
  },
})
