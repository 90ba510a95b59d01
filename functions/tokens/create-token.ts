// POST /api/tokens — create an API token for scripts; the token is in this response only (only its hash is stored).
import { createRoute } from '@hono/zod-openapi'
import { defineFunction } from '../../runtime/http/define-function.js'
import { CreateApiTokenRequest, CreatedApiToken } from '../../runtime/contracts/schemas.js'
import { errorResponses } from '../../runtime/contracts/errors.js'

export default defineFunction({
  route: createRoute({
    method: 'post', path: '/api/tokens', tags: ['API tokens'], operationId: 'createApiToken', summary: 'Create an API token',
    description: 'Returns the bearer token once. Needs a session: an API token cannot create tokens (403 forbidden).',
    // Session only: a leaked token must not be able to mint new ones (docs/decisions.md "API tokens").
    security: [{ session: [] }],
    request: { body: { content: { 'application/json': { schema: CreateApiTokenRequest } }, required: true } },
    responses: {
      201: { description: 'Created; `token` is shown only here', content: { 'application/json': { schema: CreatedApiToken } } },
      ...errorResponses(400, 401, 403, 413, 415),
    },
  }),
  async handler(c, { auth, actor }) {
    return c.json(await auth.tokens.create(c.req.valid('json'), actor), 201)
  },
})
