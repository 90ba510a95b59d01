// GET /api/openapi.json and GET /docs: the public contract and an offline API reference (swagger-ui-dist served locally, no CDN).
import fs from 'node:fs'
import path from 'node:path'
import { createRequire } from 'node:module'
import { fileURLToPath } from 'node:url'
import type { OpenAPIHono } from '@hono/zod-openapi'
import type { AppEnv, FunctionModule } from './define-function.js'
import { buildOpenApiDocument } from '../contracts/openapi.js'

const OWN_ASSETS = path.join(path.dirname(fileURLToPath(import.meta.url)), 'docs-assets')
const SWAGGER_DIR = path.dirname(createRequire(import.meta.url).resolve('swagger-ui-dist/package.json'))

const ASSETS: Record<string, { file: string; type: string }> = {
  'swagger-ui.css': { file: path.join(SWAGGER_DIR, 'swagger-ui.css'), type: 'text/css; charset=utf-8' },
  'swagger-ui-bundle.js': { file: path.join(SWAGGER_DIR, 'swagger-ui-bundle.js'), type: 'text/javascript; charset=utf-8' },
  'docs.js': { file: path.join(OWN_ASSETS, 'docs.js'), type: 'text/javascript; charset=utf-8' },
  'docs.css': { file: path.join(OWN_ASSETS, 'docs.css'), type: 'text/css; charset=utf-8' },
}

// Everything comes from this origin; Swagger UI sets inline styles and renders SVG icons as data: URLs.
const CSP = "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

export function mountDocs(app: OpenAPIHono<AppEnv>, functions: FunctionModule[]): void {
  // Built on the first request, not at start-up: the document is only read by the docs page and clients' generators,
  // and building it walks every schema (docs/performance.md, "API", memory). Serialised once, then served as is.
  let documentJson: string | undefined
  const page = fs.readFileSync(path.join(OWN_ASSETS, 'docs.html'), 'utf8')
  const cache = new Map<string, Buffer>()

  app.get('/api/openapi.json', (c) => {
    documentJson ??= JSON.stringify(buildOpenApiDocument(functions, 'public'))
    return c.body(documentJson, 200, { 'Content-Type': 'application/json' })
  })

  app.get('/docs', (c) => {
    c.header('Content-Security-Policy', CSP)
    c.header('X-Content-Type-Options', 'nosniff')
    return c.html(page)
  })

  app.get('/docs/assets/:name', (c) => {
    const asset = ASSETS[c.req.param('name')]
    if (!asset) return c.json({ code: 'not_found', message: 'No such docs asset' }, 404)
    let body = cache.get(asset.file)
    if (!body) { body = fs.readFileSync(asset.file); cache.set(asset.file, body) }
    return c.body(new Uint8Array(body), 200, { 'Content-Type': asset.type, 'Cache-Control': 'public, max-age=3600', 'X-Content-Type-Options': 'nosniff' })
  })
}
