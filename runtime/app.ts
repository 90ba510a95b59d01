// Assembles the HTTP app: mounts every function module listed in hono.config.ts, auth, JSON rules and error mapping.
import crypto from 'node:crypto'
import { OpenAPIHono } from '@hono/zod-openapi'
import { bodyLimit } from 'hono/body-limit'
import { HTTPException } from 'hono/http-exception'
import { getConnInfo } from '@hono/node-server/conninfo'
import type { Context } from 'hono'
import type { Services } from './services.js'
import type { AppEnv, FunctionContext, FunctionModule } from './http/define-function.js'
import type { Actor } from './auth/auth-service.js'
import { ApiError } from './contracts/errors.js'
import { bearerCredential } from './auth/api-tokens.js'
import { requestHeader, requestCookie } from './http/request-headers.js'
import { validateQueryAndParams, type ValidationFailed } from './http/validate-request.js'

const BODY_LIMIT_BYTES = 64 * 1024

function errorBody(code: string, message: string, details?: Record<string, unknown>) {
  return details ? { code, message, details } : { code, message }
}

function isLoopback(ip: string): boolean {
  return ip === '127.0.0.1' || ip === '::1' || ip === '::ffff:127.0.0.1' || ip.startsWith('127.')
}

function peerAddress(c: Context): string {
  try {
    return getConnInfo(c).remote.address ?? 'unknown'
  } catch {
    return 'unknown' // app.request() in tests has no socket
  }
}

/** Client IP and HTTPS-ness; forwarding headers count only when the peer is a local reverse proxy. */
function clientInfo(c: Context): { clientIp: string; isHttps: boolean } {
  const peer = peerAddress(c)
  const trusted = peer === 'unknown' || isLoopback(peer)
  const forwardedFor = trusted ? requestHeader(c, 'x-forwarded-for')?.split(',')[0]?.trim() : undefined
  const forwardedProto = trusted ? requestHeader(c, 'x-forwarded-proto') : undefined
  return {
    clientIp: forwardedFor || peer,
    // c.req.url is always absolute here; a prefix test saves parsing a URL per request.
    isHttps: /^https:/i.test(c.req.url) || forwardedProto === 'https',
  }
}

/**
 * The FunctionContext of one route: the services (inherited), the route's logger, and the request's actor and client.
 * A class made once per route, so a request costs one small object (defining properties per request was measurable).
 */
function functionContextClass(services: Services, log: FunctionContext['log']) {
  class RouteContext {
    readonly #actor: Actor | null
    constructor(actor: Actor | null, readonly clientIp: string, readonly isHttps: boolean) { this.#actor = actor }
    get actor(): Actor {
      if (!this.#actor) throw new Error('public function read the actor')
      return this.#actor
    }
    get log(): FunctionContext['log'] { return log }
  }
  Object.setPrototypeOf(RouteContext.prototype, services)
  return RouteContext as unknown as new (actor: Actor | null, clientIp: string, isHttps: boolean) => FunctionContext
}

export interface AppOptions {
  functions: FunctionModule[]
  /** Extra routes mounted before the 404 handler (OpenAPI document, docs page). */
  extraRoutes?: (app: OpenAPIHono<AppEnv>) => void
}

export function createApp(services: Services, options: AppOptions): OpenAPIHono<AppEnv> {
  const validationFailed: ValidationFailed = (error, c) => {
    const issues = error.issues.map((issue) => ({ path: issue.path.join('.'), message: issue.message }))
    return c.json(errorBody('bad_request', 'Request validation failed', { issues }), 400)
  }
  const app = new OpenAPIHono<AppEnv>({
    defaultHook: (result, c) => (result.success ? undefined : validationFailed(result.error, c)),
  })

  // Routes that need no credential, and routes that take a session only (token management, logout): matched by method
  // and path pattern, made once.
  const routePatterns = (fns: FunctionModule[]) => fns.map((fn) => ({
    method: fn.route.method.toUpperCase(),
    pattern: new RegExp(`^${fn.route.path.replace(/\{[^}]+\}/g, '[^/]+')}$`),
  }))
  const publicRoutes = routePatterns(options.functions.filter((fn) => fn.public))
  const sessionOnlyRoutes = routePatterns(options.functions
    .filter((fn) => fn.route.security && fn.route.security.length > 0 && !fn.route.security.some((req) => 'bearer' in req)))
  const limitBody = bodyLimit({
    maxSize: BODY_LIMIT_BYTES,
    onError: (c) => c.json(errorBody('payload_too_large', 'Request body exceeds 64 KiB'), 413),
  })

  // The edge, one middleware for every request, in this order: the client, authentication, the body rules. One function
  // rather than four: each layer of Hono's middleware chain is a closure and a promise per request (docs/performance.md).
  app.use('*', async (c, next) => {
    const method = c.req.method
    const path = c.req.path
    const info = clientInfo(c)
    c.set('clientIp', info.clientIp)
    c.set('isHttps', info.isHttps)
    c.set('actor', null)

    // Authentication comes first, before content type, body size and validation: an anonymous caller gets 401 and
    // learns nothing about a route's body rules. `Authorization: Bearer` (an API token) is used when present, else the
    // session cookie. Routes whose own security requirement leaves out `bearer` answer 403 to a valid token.
    const isPublic = (method === 'GET' && path === '/api/openapi.json') || publicRoutes.some((r) => r.method === method && r.pattern.test(path))
    if (!isPublic && (path.startsWith('/api/') || path.startsWith('/_admin/'))) {
      const bearer = bearerCredential(requestHeader(c, 'authorization'))
      if (bearer !== undefined) {
        const actor = await services.auth.tokens.authenticate(bearer)
        if (!actor) return c.json(errorBody('unauthorized', 'Invalid API token: unknown, expired or revoked'), 401)
        if (sessionOnlyRoutes.some((r) => r.method === method && r.pattern.test(path))) {
          return c.json(errorBody('forbidden', 'API tokens cannot manage tokens or sign out; use a session'), 403)
        }
        c.set('actor', actor)
      } else {
        const actor = await services.auth.authenticate(requestCookie(c, 'session_token'))
        if (!actor) return c.json(errorBody('unauthorized', 'Sign in first: missing, expired or revoked session'), 401)
        c.set('actor', actor)
      }
    }

    // GET and HEAD requests never carry a body (@hono/node-server gives them none); skipping the limiter for them keeps
    // it from reading c.req.raw.body, which builds a full fetch Request (with an AbortController) for every read.
    if (method === 'GET' || method === 'HEAD') return next()
    if (method === 'POST' || method === 'PUT' || method === 'PATCH' || method === 'DELETE') {
      const hasBody = Number(requestHeader(c, 'content-length') ?? 0) > 0 || requestHeader(c, 'transfer-encoding') !== undefined
      const type = requestHeader(c, 'content-type') ?? ''
      if (hasBody && !/^application\/json\s*(;|$)/i.test(type)) {
        return c.json(errorBody('unsupported_media_type', 'Request bodies must be application/json'), 415)
      }
    }
    return limitBody(c, next)
  })

  for (const fn of options.functions) {
    const route = fn.route
    // One child logger per route, made once: building it per request would put pino's child() on the hot path.
    const RouteContext = functionContextClass(services, services.logger.child({ route: `${route.method.toUpperCase()} ${route.path}` }))
    // Query and path parameters are validated by validateQueryAndParams (the same zod schemas and 400 body as
    // zod-openapi's validators, without reading any header); a request body still goes through zod-openapi's media-type
    // gate and JSON validator. The app's own OpenAPI registry stays empty: the documents are built from the function
    // modules (runtime/contracts/openapi.ts).
    const { query, params, ...bodyOnly } = route.request ?? {}
    const validators = validateQueryAndParams({ query, params }, validationFailed)
    app.openapi({ ...route, request: bodyOnly, hide: true, middleware: validators } as typeof route,
      ((c: Context<AppEnv>) => fn.handler(c as never, new RouteContext(c.get('actor'), c.get('clientIp'), c.get('isHttps')))) as never)
  }

  options.extraRoutes?.(app)

  app.notFound((c) => c.json(errorBody('not_found', `No route for ${c.req.method} ${c.req.path}`), 404))

  app.onError((error, c) => {
    if (error instanceof ApiError) return c.json(errorBody(error.code, error.message, error.details), error.status as 400)
    if (error instanceof HTTPException) {
      if (error.status === 400) return c.json(errorBody('bad_request', 'Malformed JSON body'), 400)
      if (error.status === 413) return c.json(errorBody('payload_too_large', 'Request body exceeds 64 KiB'), 413)
      if (error.status === 415) return c.json(errorBody('unsupported_media_type', 'Request bodies must be application/json'), 415)
    }
    const errorId = crypto.randomUUID()
    services.logger.error({ err: error, error_id: errorId, path: c.req.path }, 'unhandled error')
    return c.json(errorBody('internal_error', 'Unexpected failure; see the control-plane log', { error_id: errorId }), 500)
  })

  return app
}
