// Builds the OpenAPI 3.1 documents from the function modules: public routes → openapi.json, internal → admin-openapi.json.
import { OpenAPIHono } from '@hono/zod-openapi'
import type { FunctionModule } from '../http/define-function.js'

const INFO = {
  title: 'Pressluft API',
  version: '0.1.0',
  description: 'Self-hosted control plane for WordPress hosting. Every change to a server is an asynchronous job (`202 {job_id}`); follow it with `GET /api/jobs/{id}`. Sign in with `POST /api/login`; the session cookie authorises every other call. Scripts use an API token instead (`Authorization: Bearer plt_…`, created with `POST /api/tokens`), accepted wherever a session is except the operations that manage credentials.',
}

export function buildOpenApiDocument(functions: FunctionModule[], surface: 'public' | 'internal') {
  const app = new OpenAPIHono()
  for (const fn of functions) {
    if (Boolean(fn.internal) !== (surface === 'internal')) continue
    app.openapi(fn.route, (() => new Response(null)) as never)
  }
  app.openAPIRegistry.registerComponent('securitySchemes', 'session', { type: 'apiKey', in: 'cookie', name: 'session_token' })
  app.openAPIRegistry.registerComponent('securitySchemes', 'bearer', { type: 'http', scheme: 'bearer', description: 'API token `plt_…` (POST /api/tokens)' })
  const document = app.getOpenAPI31Document({
    openapi: '3.1.0',
    info: surface === 'public' ? INFO : { ...INFO, title: 'Pressluft internal admin API', description: 'Internal settings of the control plane (`/_admin`). Not part of the public API.' },
    // A session or an API token; operations that take a session only say so with their own `security`.
    security: [{ session: [] }, { bearer: [] }],
  })
  // Public operations carry an explicit empty security requirement so readers see they need no session.
  for (const fn of functions) {
    if (!fn.public) continue
    const path = fn.route.path.replace(/\{(\w+)\}/g, '{$1}')
    const op = (document.paths?.[path] as Record<string, { security?: unknown[] }> | undefined)?.[fn.route.method]
    if (op) op.security = []
  }
  return document
}
