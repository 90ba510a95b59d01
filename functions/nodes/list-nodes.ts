// GET /api/nodes — one page of nodes, newest first.
import { createRoute } from '@hono/zod-openapi'
import { defineFunction } from '../../runtime/http/define-function.js'
import { PageQuery, NodePage } from '../../runtime/contracts/schemas.js'
import { errorResponses } from '../../runtime/contracts/errors.js'

export default defineFunction({
  route: createRoute({
    method: 'get', path: '/api/nodes', tags: ['Nodes'], operationId: 'listNodes', summary: 'List nodes',
    request: { query: PageQuery },
    responses: { 200: { description: 'A page of nodes', content: { 'application/json': { schema: NodePage } } }, ...errorResponses(400, 401) },
  }),
  async handler(c, { nodes }) {
    return c.json(await nodes.list(c.req.valid('query')), 200)
  },
})
