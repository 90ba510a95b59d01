// GET /api/environments/{id}/domains — one page of an environment's custom domains, newest first.
import { createRoute } from '@hono/zod-openapi'
import { defineFunction } from '../../runtime/http/define-function.js'
import { IdParam, PageQuery, DomainPage } from '../../runtime/contracts/schemas.js'
import { errorResponses } from '../../runtime/contracts/errors.js'

export default defineFunction({
  route: createRoute({
    method: 'get', path: '/api/environments/{id}/domains', tags: ['Domains'], operationId: 'listDomains', summary: "List an environment's domains",
    request: { params: IdParam, query: PageQuery },
    responses: { 200: { description: 'A page of domains', content: { 'application/json': { schema: DomainPage } } }, ...errorResponses(400, 401, 404) },
  }),
  async handler(c, { domains }) {
    return c.json(await domains.listOfEnvironment(c.req.valid('param').id, c.req.valid('query')), 200)
  },
})
