// GET /api/environments/{id}/backups — one page of an environment's backups, newest first.
import { createRoute } from '@hono/zod-openapi'
import { defineFunction } from '../../runtime/http/define-function.js'
import { IdParam, PageQuery, BackupPage } from '../../runtime/contracts/schemas.js'
import { errorResponses } from '../../runtime/contracts/errors.js'

export default defineFunction({
  route: createRoute({
    method: 'get', path: '/api/environments/{id}/backups', tags: ['Backups'], operationId: 'listBackups', summary: "List an environment's backups",
    request: { params: IdParam, query: PageQuery },
    responses: { 200: { description: 'A page of backups', content: { 'application/json': { schema: BackupPage } } }, ...errorResponses(400, 401, 404) },
  }),
  async handler(c, { backups }) {
    return c.json(await backups.listOfEnvironment(c.req.valid('param').id, c.req.valid('query')), 200)
  },
})
