// DELETE /api/tokens/{id} — revoke an API token at once; its next request answers 401.
import { createRoute } from '@hono/zod-openapi'
import { defineFunction } from '../../runtime/http/define-function.js'
import { IdParam, ApiToken } from '../../runtime/contracts/schemas.js'
import { errorResponses } from '../../runtime/contracts/errors.js'

export default defineFunction({
  route: createRoute({
    method: 'delete', path: '/api/tokens/{id}', tags: ['API tokens'], operationId: 'revokeApiToken', summary: 'Revoke an API token',
    description: 'Idempotent: revoking a revoked token answers it unchanged. Needs a session (403 forbidden with an API token).',
    security: [{ session: [] }],
    request: { params: IdParam },
    responses: {
      200: { description: 'The revoked token (metadata)', content: { 'application/json': { schema: ApiToken } } },
      ...errorResponses(400, 401, 403, 404),
    },
  }),
  async handler(c, { auth, actor }) {
    return c.json(await auth.tokens.revoke(c.req.valid('param').id, actor), 200)
  },
})
