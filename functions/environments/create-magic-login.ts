// POST /api/environments/{id}/magic-login — a one-time 60 s WordPress admin link, fetched from the node over SSH (no job).
import { createRoute } from '@hono/zod-openapi'
import { defineFunction } from '../../runtime/http/define-function.js'
import { IdParam, MagicLoginResponse } from '../../runtime/contracts/schemas.js'
import { errorResponses } from '../../runtime/contracts/errors.js'

export default defineFunction({
  route: createRoute({
    method: 'post', path: '/api/environments/{id}/magic-login', tags: ['Environments'], operationId: 'createMagicLogin', summary: 'Create a magic login link',
    request: { params: IdParam },
    responses: {
      200: { description: 'A one-time login link', content: { 'application/json': { schema: MagicLoginResponse } } },
      ...errorResponses(400, 401, 404, 409, 502),
    },
  }),
  async handler(c, { magicLogin, actor }) {
    return c.json(await magicLogin.create(c.req.valid('param').id, actor), 200)
  },
})
