// DELETE /api/domains/{id} — detach a custom domain (domain_remove); repeated calls answer the open removal job.
import { createRoute } from '@hono/zod-openapi'
import { defineFunction } from '../../runtime/http/define-function.js'
import { IdParam, JobAccepted } from '../../runtime/contracts/schemas.js'
import { errorResponses } from '../../runtime/contracts/errors.js'

export default defineFunction({
  route: createRoute({
    method: 'delete', path: '/api/domains/{id}', tags: ['Domains'], operationId: 'deleteDomain', summary: 'Remove a domain',
    request: { params: IdParam },
    responses: {
      202: { description: 'domain_remove accepted, or the id of the one already queued or running', content: { 'application/json': { schema: JobAccepted } } },
      ...errorResponses(400, 401, 404, 409),
    },
  }),
  async handler(c, { domains, actor }) {
    return c.json(await domains.remove(c.req.valid('param').id, actor), 202)
  },
})
