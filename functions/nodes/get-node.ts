// GET /api/nodes/{id} — one node.
import { createRoute } from '@hono/zod-openapi'
import { defineFunction } from '../../runtime/http/define-function.js'
import { IdParam, Node } from '../../runtime/contracts/schemas.js'
import { errorResponses } from '../../runtime/contracts/errors.js'

export default defineFunction({
  route: createRoute({
    method: 'get', path: '/api/nodes/{id}', tags: ['Nodes'], operationId: 'getNode', summary: 'Get a node',
    request: { params: IdParam },
    responses: { 200: { description: 'The node', content: { 'application/json': { schema: Node } } }, ...errorResponses(400, 401, 404) },
  }),
  async handler(c, { nodes }) {
    return c.json(await nodes.get(c.req.valid('param').id), 200)
  },
})
