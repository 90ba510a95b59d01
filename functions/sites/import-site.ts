// POST /api/sites/{id}/import — import a WordPress archive into the production environment, after a pre-import backup.
import { createRoute } from '@hono/zod-openapi'
import { defineFunction } from '../../runtime/http/define-function.js'
import { IdParam, ImportSiteRequest, JobAccepted } from '../../runtime/contracts/schemas.js'
import { errorResponses } from '../../runtime/contracts/errors.js'

export default defineFunction({
  route: createRoute({
    method: 'post', path: '/api/sites/{id}/import', tags: ['Sites'], operationId: 'importSite', summary: 'Import a site archive',
    request: { params: IdParam, body: { content: { 'application/json': { schema: ImportSiteRequest } }, required: true } },
    responses: {
      202: { description: 'site_import accepted (its pre-import backup job is listed in /api/jobs)', content: { 'application/json': { schema: JobAccepted } } },
      ...errorResponses(400, 401, 404, 409, 413, 415),
    },
  }),
  async handler(c, { sites, actor }) {
    return c.json(await sites.importArchive(c.req.valid('param').id, c.req.valid('json'), actor), 202)
  },
})
