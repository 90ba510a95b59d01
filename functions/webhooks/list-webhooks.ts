// GET /api/webhooks — one page of the registered webhook endpoints (never their secrets), newest first.
import { createRoute } from '@hono/zod-openapi'
import { defineFunction } from '../../runtime/http/define-function.js'
import { PageQuery } from '../../runtime/contracts/schemas.js'
import { WebhookPage } from '../../runtime/contracts/webhook-schemas.js'
import { errorResponses } from '../../runtime/contracts/errors.js'

export default defineFunction({
  route: createRoute({
    method: 'get', path: '/api/webhooks', tags: ['Webhooks'], operationId: 'listWebhooks', summary: 'List webhook endpoints',
    request: { query: PageQuery },
    responses: { 200: { description: 'A page of webhook endpoints', content: { 'application/json': { schema: WebhookPage } } }, ...errorResponses(400, 401) },
  }),
  async handler(c, { webhooks }) {
    return c.json(await webhooks.list(c.req.valid('query')), 200)
  },
})
