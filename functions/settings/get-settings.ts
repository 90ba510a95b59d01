// GET /_admin/settings — every platform setting (secrets only as {set}), plus the control plane's SSH public key.
import { createRoute } from '@hono/zod-openapi'
import { defineFunction } from '../../runtime/http/define-function.js'
import { SettingsView } from '../../runtime/contracts/schemas.js'
import { errorResponses } from '../../runtime/contracts/errors.js'

export default defineFunction({
  internal: true,
  route: createRoute({
    method: 'get', path: '/_admin/settings', tags: ['Settings'], operationId: 'getSettings', summary: 'Read settings',
    responses: { 200: { description: 'Current settings', content: { 'application/json': { schema: SettingsView } } }, ...errorResponses(401) },
  }),
  async handler(c, { settings }) {
    return c.json(await settings.view(), 200)
  },
})
