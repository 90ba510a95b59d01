// POST /api/environments/{id}/domains — attach a custom domain with a Let's Encrypt certificate (domain_add); re-posting a failed one retries it.
import { createRoute } from '@hono/zod-openapi'
import { defineFunction } from '../../runtime/http/define-function.js'
import { IdParam, AddDomainRequest, JobAccepted } from '../../runtime/contracts/schemas.js'
import { errorResponses } from '../../runtime/contracts/errors.js'

export default defineFunction({
  route: createRoute({
    method: 'post', path: '/api/environments/{id}/domains', tags: ['Domains'], operationId: 'addDomain', summary: 'Add a domain',
    request: { params: IdParam, body: { content: { 'application/json': { schema: AddDomainRequest } }, required: true } },
    responses: {
      202: { description: 'domain_add accepted', content: { 'application/json': { schema: JobAccepted } } },
      ...errorResponses(400, 401, 404, 409, 413, 415),
    },
  }),
  async handler(c, { domains, actor }) {
    return c.json(await domains.add(c.req.valid('param').id, c.req.valid('json'), actor), 202)
  },
})
