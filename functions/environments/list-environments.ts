// GET /api/sites/{id}/environments — one page of a site's environments, newest first.
import { createRoute } from '@hono/zod-openapi'
import { defineFunction } from '../../runtime/http/define-function.js'
import { IdParam, PageQuery, EnvironmentPage } from '../../runtime/contracts/schemas.js'
import { errorResponses } from '../../runtime/contracts/errors.js'

export default defineFunction({
  route: createRoute({
    method: 'get', path: '/api/sites/{id}/environments', tags: ['Environments'], operationId: 'listEnvironments', summary: "List a site's environments",
    request: { params: IdParam, query: PageQuery },
    responses: { 200: { description: 'A page of environments', content: { 'application/json': { schema: EnvironmentPage } } }, ...errorResponses(400, 401, 404) },
  }),
  async handler(c, { environments }) {
    return c.json(await environments.listOfSite(c.req.valid('param').id, c.req.valid('query')), 200)
  },
})
