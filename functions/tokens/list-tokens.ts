// GET /api/tokens — one page of the admin's API tokens, newest first: metadata only, never a token or its hash.
import { createRoute } from '@hono/zod-openapi'
import { defineFunction } from '../../runtime/http/define-function.js'
import { PageQuery, ApiTokenPage } from '../../runtime/contracts/schemas.js'
import { errorResponses } from '../../runtime/contracts/errors.js'

export default defineFunction({
  route: createRoute({
    method: 'get', path: '/api/tokens', tags: ['API tokens'], operationId: 'listApiTokens', summary: 'List API tokens',
    description: 'Revoked and expired tokens stay listed with `revoked_at` / `expires_at`.',
    request: { query: PageQuery },
    responses: { 200: { description: 'A page of API tokens', content: { 'application/json': { schema: ApiTokenPage } } }, ...errorResponses(400, 401) },
  }),
  async handler(c, { auth, actor }) {
    return c.json(await auth.tokens.list(actor, c.req.valid('query')), 200)
  },
})
