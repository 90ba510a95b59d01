// POST /api/login — exchange the admin's email and password for a 24 h session cookie.
import { createRoute } from '@hono/zod-openapi'
import { setCookie } from 'hono/cookie'
import { defineFunction } from '../../runtime/http/define-function.js'
import { LoginRequest, SuccessResponse } from '../../runtime/contracts/schemas.js'
import { errorResponses } from '../../runtime/contracts/errors.js'

export default defineFunction({
  public: true,
  route: createRoute({
    method: 'post', path: '/api/login', tags: ['Auth'], operationId: 'login', summary: 'Sign in',
    request: { body: { content: { 'application/json': { schema: LoginRequest } }, required: true } },
    responses: {
      200: { description: 'Signed in; the session cookie is set', content: { 'application/json': { schema: SuccessResponse } } },
      ...errorResponses(400, 401, 415, 429),
    },
  }),
  async handler(c, { auth, clientIp, isHttps }) {
    const { email, password } = c.req.valid('json')
    const { token } = await auth.login(email, password, clientIp)
    setCookie(c, 'session_token', token, { path: '/', httpOnly: true, sameSite: 'Strict', maxAge: 86400, secure: isHttps })
    return c.json({ success: true as const }, 200)
  },
})
