// POST /api/webhooks — register a webhook endpoint; the answer carries the signing secret, the only time it is returned.
import { createRoute } from '@hono/zod-openapi'
import { defineFunction } from '../../runtime/http/define-function.js'
import { CreateWebhookRequest, CreatedWebhook } from '../../runtime/contracts/webhook-schemas.js'
import { errorResponses } from '../../runtime/contracts/errors.js'

export default defineFunction({
  route: createRoute({
    method: 'post', path: '/api/webhooks', tags: ['Webhooks'], operationId: 'createWebhook', summary: 'Register a webhook endpoint',
    description: 'Deliveries are JSON bodies signed with HMAC-SHA256 over "<timestamp>.<body>" (headers Pressluft-Timestamp and Pressluft-Signature: v1=<hex>); see docs/webhooks.md for the verification and retry rules.',
    request: { body: { content: { 'application/json': { schema: CreateWebhookRequest } }, required: true } },
    responses: {
      201: { description: 'Registered; store the secret now, it is never returned again', content: { 'application/json': { schema: CreatedWebhook } } },
      ...errorResponses(400, 401, 413, 415),
    },
  }),
  async handler(c, { webhooks, actor }) {
    return c.json(await webhooks.create(c.req.valid('json'), actor), 201)
  },
})
