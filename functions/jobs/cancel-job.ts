// POST /api/jobs/{id}/cancel — cancel a queued or running job; a running playbook is stopped (SIGTERM, 15 s, SIGKILL).
import { createRoute } from '@hono/zod-openapi'
import { defineFunction } from '../../runtime/http/define-function.js'
import { CancelJobResponse, IdParam } from '../../runtime/contracts/schemas.js'
import { errorResponses } from '../../runtime/contracts/errors.js'

export default defineFunction({
  route: createRoute({
    method: 'post', path: '/api/jobs/{id}/cancel', tags: ['Jobs'], operationId: 'cancelJob', summary: 'Cancel a job',
    request: { params: IdParam },
    responses: {
      200: { description: 'Cancelled; resources the job moved or created are failed', content: { 'application/json': { schema: CancelJobResponse } } },
      ...errorResponses(400, 401, 404, 409),
    },
  }),
  async handler(c, { jobs, actor }) {
    await jobs.cancel(c.req.valid('param').id, actor.id)
    return c.json({ success: true as const, status: 'cancelled' as const }, 200)
  },
})
