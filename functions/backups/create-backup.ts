// POST /api/environments/{id}/backups — back up an environment to S3 storage (backup_create; the backup row starts pending).
import { createRoute } from '@hono/zod-openapi'
import { defineFunction } from '../../runtime/http/define-function.js'
import { IdParam, CreateBackupRequest, JobAccepted } from '../../runtime/contracts/schemas.js'
import { errorResponses } from '../../runtime/contracts/errors.js'

export default defineFunction({
  route: createRoute({
    method: 'post', path: '/api/environments/{id}/backups', tags: ['Backups'], operationId: 'createBackup', summary: 'Create a backup',
    request: { params: IdParam, body: { content: { 'application/json': { schema: CreateBackupRequest } }, required: true } },
    responses: {
      202: { description: 'backup_create accepted', content: { 'application/json': { schema: JobAccepted } } },
      ...errorResponses(400, 401, 404, 409, 413, 415),
    },
  }),
  async handler(c, { backups, actor }) {
    return c.json(await backups.create(c.req.valid('param').id, c.req.valid('json'), actor), 202)
  },
})
