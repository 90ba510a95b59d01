// GET /api/environments/{id}/releases — one page of an environment's releases with their health, newest first.
import { createRoute } from '@hono/zod-openapi'
import { defineFunction } from '../../runtime/http/define-function.js'
import { IdParam, PageQuery, ReleasePage } from '../../runtime/contracts/schemas.js'
import { errorResponses } from '../../runtime/contracts/errors.js'

export default defineFunction({
  route: createRoute({
    method: 'get', path: '/api/environments/{id}/releases', tags: ['Environments'], operationId: 'listReleases', summary: "List an environment's releases",
    description: 'Newest first, each with its health (`unknown` until its health check ran) and whether it is the current release.',
    request: { params: IdParam, query: PageQuery },
    responses: { 200: { description: 'A page of releases', content: { 'application/json': { schema: ReleasePage } } }, ...errorResponses(400, 401, 404) },
  }),
  async handler(c, { releases }) {
    return c.json(await releases.listOfEnvironment(c.req.valid('param').id, c.req.valid('query')), 200)
  },
})
