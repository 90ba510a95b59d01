// POST /api/logout — revoke the current session and clear its cookie.
import { createRoute } from '@hono/zod-openapi'
import { deleteCookie } from 'hono/cookie'
import { defineFunction } from '../../runtime/http/define-function.js'
import { SuccessResponse } from '../../runtime/contracts/schemas.js'
import { errorResponses } from '../../runtime/contracts/errors.js'

export default defineFunction({
  route: createRoute({
    method: 'post', path: '/api/logout', tags: ['Auth'], operationId: 'logout', summary: 'Sign out',
    // Session only: an API token is revoked with DELETE /api/tokens/{id}, not signed out (403 forbidden).
    security: [{ session: [] }],
    responses: {
      200: { description: 'Session revoked; the cookie is cleared', content: { 'application/json': { schema: SuccessResponse } } },
      ...errorResponses(401, 403),
    },
  }),
  async handler(c, { auth, actor, isHttps }) {
    await auth.logout(actor)
    deleteCookie(c, 'session_token', { path: '/', httpOnly: true, sameSite: 'Strict', secure: isHttps })
    return c.json({ success: true as const }, 200)
  },
})
