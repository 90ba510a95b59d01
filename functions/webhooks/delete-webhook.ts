// DELETE /api/webhooks/{id} — remove a webhook endpoint with its secret and deliveries; pending ones are not sent.
import { createRoute } from '@hono/zod-openapi'
import { defineFunction } from '../../runtime/http/define-function.js'
import { IdParam, SuccessResponse } from '../../runtime/contracts/schemas.js'
import { errorResponses } from '../../runtime/contracts/errors.js'

export default defineFunction({
  route: createRoute({
    method: 'delete', path: '/api/webhooks/{id}', tags: ['Webhooks'], operationId: 'deleteWebhook', summary: 'Delete a webhook endpoint',
    request: { params: IdParam },
    responses: {
      200: { description: 'Deleted', content: { 'application/json': { schema: SuccessResponse } } },
      ...errorResponses(400, 401, 404),
    },
  }),
  async handler(c, { webhooks, actor }) {
    await webhooks.delete(c.req.valid('param').id, actor)
    return c.json({ success: true as const }, 200)
  },
})
