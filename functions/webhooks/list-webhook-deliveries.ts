// GET /api/webhooks/{id}/deliveries — an endpoint's deliveries, newest first, each with its attempts and response codes.
import { createRoute } from '@hono/zod-openapi'
import { defineFunction } from '../../runtime/http/define-function.js'
import { IdParam, PageQuery } from '../../runtime/contracts/schemas.js'
import { WebhookDeliveryPage } from '../../runtime/contracts/webhook-schemas.js'
import { errorResponses } from '../../runtime/contracts/errors.js'

export default defineFunction({
  route: createRoute({
    method: 'get', path: '/api/webhooks/{id}/deliveries', tags: ['Webhooks'], operationId: 'listWebhookDeliveries', summary: "List a webhook's deliveries",
    request: { params: IdParam, query: PageQuery },
    responses: { 200: { description: 'A page of deliveries', content: { 'application/json': { schema: WebhookDeliveryPage } } }, ...errorResponses(400, 401, 404) },
  }),
  async handler(c, { webhooks }) {
    return c.json(await webhooks.deliveries(c.req.valid('param').id, c.req.valid('query')), 200)
  },
})
