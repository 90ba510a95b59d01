// POST /api/environments/{id}/rollback — switch the environment back to one of its earlier releases (release_rollback).
import { createRoute } from '@hono/zod-openapi'
import { defineFunction } from '../../runtime/http/define-function.js'
import { IdParam, RollbackRequest, JobAccepted } from '../../runtime/contracts/schemas.js'
import { errorResponses } from '../../runtime/contracts/errors.js'

export default defineFunction({
  route: createRoute({
    method: 'post', path: '/api/environments/{id}/rollback', tags: ['Environments'], operationId: 'rollbackEnvironment', summary: 'Roll back to a release',
    description: 'Points `current` back at `release_id` without a database restore. `409 release_not_rollback_target` (with `details.reason` '
      + '`foreign_release`, `release_unhealthy` or `release_current`) when the release belongs to another environment, failed its health check, '
      + 'or is already current; `409 environment_not_active` while another operation runs.',
    request: { params: IdParam, body: { content: { 'application/json': { schema: RollbackRequest } }, required: true } },
    responses: {
      202: { description: 'release_rollback accepted', content: { 'application/json': { schema: JobAccepted } } },
      ...errorResponses(400, 401, 404, 409, 413, 415),
    },
  }),
  async handler(c, { releases, actor }) {
    return c.json(await releases.rollback(c.req.valid('param').id, c.req.valid('json'), actor), 202)
  },
})
