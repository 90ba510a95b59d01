// POST /api/environments/{id}/restore — restore a backup of the same site into this environment (env_restore), after a pre-restore backup.
import { createRoute } from '@hono/zod-openapi'
import { defineFunction } from '../../runtime/http/define-function.js'
import { IdParam, RestoreRequest, JobAccepted } from '../../runtime/contracts/schemas.js'
import { errorResponses } from '../../runtime/contracts/errors.js'

export default defineFunction({
  route: createRoute({
    method: 'post', path: '/api/environments/{id}/restore', tags: ['Environments'], operationId: 'restoreEnvironment', summary: 'Restore a backup',
    request: { params: IdParam, body: { content: { 'application/json': { schema: RestoreRequest } }, required: true } },
    responses: {
      202: { description: 'env_restore accepted (its pre-restore backup job is listed in /api/jobs)', content: { 'application/json': { schema: JobAccepted } } },
      ...errorResponses(400, 401, 404, 409, 413, 415),
    },
  }),
  async handler(c, { environments, actor }) {
    return c.json(await environments.restore(c.req.valid('param').id, c.req.valid('json'), actor), 202)
  },
})
