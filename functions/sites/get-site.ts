// GET /api/sites/{id} — one site.
import { createRoute } from '@hono/zod-openapi'
import { defineFunction } from '../../runtime/http/define-function.js'
import { IdParam, Site } from '../../runtime/contracts/schemas.js'
import { errorResponses } from '../../runtime/contracts/errors.js'

export default defineFunction({
  route: createRoute({
    method: 'get', path: '/api/sites/{id}', tags: ['Sites'], operationId: 'getSite', summary: 'Get a site',
    request: { params: IdParam },
    responses: { 200: { description: 'The site', content: { 'application/json': { schema: Site } } }, ...errorResponses(400, 401, 404) },
  }),
  async handler(c, { sites }) {
    return c.json(await sites.get(c.req.valid('param').id), 200)
  },
})
