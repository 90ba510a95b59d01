// POST /api/environments/{id}/cache/purge — empty the environment's page and object caches (cache_purge).
import { createRoute } from '@hono/zod-openapi'
import { defineFunction } from '../../runtime/http/define-function.js'
import { IdParam, JobAccepted } from '../../runtime/contracts/schemas.js'
import { errorResponses } from '../../runtime/contracts/errors.js'

export default defineFunction({
  route: createRoute({
    method: 'post', path: '/api/environments/{id}/cache/purge', tags: ['Environments'], operationId: 'purgeEnvironmentCache', summary: 'Purge caches',
    request: { params: IdParam },
    responses: {
      202: { description: 'cache_purge accepted, or the id of the one already queued', content: { 'application/json': { schema: JobAccepted } } },
      ...errorResponses(400, 401, 404, 409),
    },
  }),
  async handler(c, { environments, actor }) {
    return c.json(await environments.purgeCache(c.req.valid('param').id, actor), 202)
  },
})
