// GET /api/sites — one page of sites, newest first.
import { createRoute } from '@hono/zod-openapi'
import { defineFunction } from '../../runtime/http/define-function.js'
import { jsonPageResponse } from '../../runtime/http/json-page.js'
import { PageQuery, SitePage } from '../../runtime/contracts/schemas.js'
import { errorResponses } from '../../runtime/contracts/errors.js'

export default defineFunction({
  route: createRoute({
    method: 'get', path: '/api/sites', tags: ['Sites'], operationId: 'listSites', summary: 'List sites',
    request: { query: PageQuery },
    responses: { 200: { description: 'A page of sites', content: { 'application/json': { schema: SitePage } } }, ...errorResponses(400, 401) },
  }),
  async handler(c, { sites }) {
    // The page comes serialised from SQLite: the SitePage shape, byte for byte what c.json would send.
    return jsonPageResponse(c, await sites.list(c.req.valid('query'))) as never
  },
})
