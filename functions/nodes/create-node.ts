// POST /api/nodes — register an SSH host or acquire a Hetzner server, then provision it (node_provision).
import { createRoute } from '@hono/zod-openapi'
import { defineFunction } from '../../runtime/http/define-function.js'
import { CreateNodeRequest, JobAccepted } from '../../runtime/contracts/schemas.js'
import { errorResponses } from '../../runtime/contracts/errors.js'

export default defineFunction({
  route: createRoute({
    method: 'post', path: '/api/nodes', tags: ['Nodes'], operationId: 'createNode', summary: 'Register or acquire a node',
    description: 'Re-posting an existing name of the same kind re-provisions the node; while its node_provision is queued or running, that job id is answered.',
    request: { body: { content: { 'application/json': { schema: CreateNodeRequest } }, required: true } },
    responses: {
      202: { description: 'node_provision accepted (or the one already queued or running)', content: { 'application/json': { schema: JobAccepted } } },
      ...errorResponses(400, 401, 409, 413, 415),
    },
  }),
  async handler(c, { nodes, actor }) {
    return c.json(await nodes.provision(c.req.valid('json'), actor), 202)
  },
})
