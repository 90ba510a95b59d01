// POST /api/sites/{id}/reset — return a failed site to active once the reset checks pass (synchronous).
import { createRoute } from '@hono/zod-openapi'
import { defineFunction } from '../../runtime/http/define-function.js'
import { IdParam, ResetResponse } from '../../runtime/contracts/schemas.js'
import { errorResponses } from '../../runtime/contracts/errors.js'

export default defineFunction({
  route: createRoute({
    method: 'post', path: '/api/sites/{id}/reset', tags: ['Sites'], operationId: 'resetSite', summary: 'Reset a failed site',
    request: { params: IdParam },
    responses: { 200: { description: 'The site is active again', content: { 'application/json': { schema: ResetResponse } } }, ...errorResponses(400, 401, 404, 409) },
  }),
  async handler(c, { sites, actor }) {
    return c.json(await sites.reset(c.req.valid('param').id, actor), 200)
  },
})
