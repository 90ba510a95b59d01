// PATCH /api/environments/{id}/cache — switch the FastCGI page cache and/or Redis object cache (env_cache_toggle).
import { createRoute } from '@hono/zod-openapi'
import { defineFunction } from '../../runtime/http/define-function.js'
import { IdParam, CacheToggleRequest, JobAccepted } from '../../runtime/contracts/schemas.js'
import { errorResponses } from '../../runtime/contracts/errors.js'

export default defineFunction({
  route: createRoute({
    method: 'patch', path: '/api/environments/{id}/cache', tags: ['Environments'], operationId: 'toggleEnvironmentCache', summary: 'Toggle caches',
    request: { params: IdParam, body: { content: { 'application/json': { schema: CacheToggleRequest } }, required: true } },
    responses: {
      202: { description: 'env_cache_toggle accepted; the flags change when the job succeeds', content: { 'application/json': { schema: JobAccepted } } },
      ...errorResponses(400, 401, 404, 409, 413, 415),
    },
  }),
  async handler(c, { environments, actor }) {
    return c.json(await environments.toggleCache(c.req.valid('param').id, c.req.valid('json'), actor), 202)
  },
})
