// POST /api/environments/{id}/updates — WordPress core/plugin/theme updates in a new release (env_update), after a pre-update backup.
import { createRoute } from '@hono/zod-openapi'
import { defineFunction } from '../../runtime/http/define-function.js'
import { IdParam, UpdatesRequest, JobAccepted } from '../../runtime/contracts/schemas.js'
import { errorResponses } from '../../runtime/contracts/errors.js'

export default defineFunction({
  route: createRoute({
    method: 'post', path: '/api/environments/{id}/updates', tags: ['Environments'], operationId: 'updateEnvironment', summary: 'Run WordPress updates',
    request: { params: IdParam, body: { content: { 'application/json': { schema: UpdatesRequest } }, required: true } },
    responses: {
      202: { description: 'env_update accepted (its pre-update backup job is listed in /api/jobs)', content: { 'application/json': { schema: JobAccepted } } },
      ...errorResponses(400, 401, 404, 409, 413, 415),
    },
  }),
  async handler(c, { environments, actor }) {
    return c.json(await environments.updates(c.req.valid('param').id, c.req.valid('json'), actor), 202)
  },
})
