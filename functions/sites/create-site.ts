// POST /api/sites — create a site and its production environment; the site_create job builds it.
import { createRoute } from '@hono/zod-openapi'
import { defineFunction } from '../../runtime/http/define-function.js'
import { CreateSiteRequest, JobAccepted } from '../../runtime/contracts/schemas.js'
import { errorResponses } from '../../runtime/contracts/errors.js'

export default defineFunction({
  route: createRoute({
    method: 'post', path: '/api/sites', tags: ['Sites'], operationId: 'createSite', summary: 'Create a site',
    description: 'Without node_id the site is placed on the active node with the fewest environments (ties: the oldest node).',
    request: { body: { content: { 'application/json': { schema: CreateSiteRequest } }, required: true } },
    responses: {
      202: { description: 'site_create accepted', content: { 'application/json': { schema: JobAccepted } } },
      ...errorResponses(400, 401, 404, 409, 413, 415),
    },
  }),
  async handler(c, { sites, actor }) {
    return c.json(await sites.create(c.req.valid('json'), actor), 202)
  },
})
