// PATCH /_admin/settings — change any subset of the settings (null clears); validated on the merged result and audited.
import { createRoute } from '@hono/zod-openapi'
import { defineFunction } from '../../runtime/http/define-function.js'
import { SettingsPatch, SettingsView } from '../../runtime/contracts/schemas.js'
import { errorResponses } from '../../runtime/contracts/errors.js'

export default defineFunction({
  internal: true,
  route: createRoute({
    method: 'patch', path: '/_admin/settings', tags: ['Settings'], operationId: 'updateSettings', summary: 'Change settings',
    request: { body: { content: { 'application/json': { schema: SettingsPatch } }, required: true } },
    responses: {
      200: { description: 'Settings after the change', content: { 'application/json': { schema: SettingsView } } },
      ...errorResponses(400, 401, 413, 415),
    },
  }),
  async handler(c, { settings, actor }) {
    return c.json(await settings.update(c.req.valid('json'), actor), 200)
  },
})
