// The shape of an endpoint module: its zod-openapi route, whether it is public, and a handler that gets the services.
import type { RouteConfig, RouteHandler } from '@hono/zod-openapi'
import type { Services } from '../services.js'
import type { Actor } from '../auth/auth-service.js'
import type { Logger } from '../logging.js'

export interface AppVariables { actor: Actor | null; clientIp: string; isHttps: boolean }
export interface AppEnv { Variables: AppVariables }

export interface FunctionContext extends Services {
  /** The signed-in admin; only public functions run without one (reading it there throws). */
  readonly actor: Actor
  readonly clientIp: string
  readonly isHttps: boolean
  readonly log: Logger
}

type RouteContext<R extends RouteConfig> = Parameters<RouteHandler<R, AppEnv>>[0]
/** What @hono/zod-openapi allows the route's handler to return: only the declared status codes with their bodies. */
type RouteResponse<R extends RouteConfig> = ReturnType<RouteHandler<R, AppEnv>>

export interface FunctionDefinition<R extends RouteConfig> {
  route: R
  /** Public routes need no session (login, OpenAPI document, docs page). */
  public?: boolean
  /** Internal routes (/_admin) go to contracts/admin-openapi.json instead of the public document. */
  internal?: boolean
  handler: (c: RouteContext<R>, ctx: FunctionContext) => RouteResponse<R>
}

/** A function module with its route type erased, as the manifest lists it (the handler was checked by defineFunction). */
export interface FunctionModule {
  route: RouteConfig
  public?: boolean
  internal?: boolean
  handler: (c: never, ctx: FunctionContext) => unknown
}

/** Checks the handler against its route at compile time (tests/types/define-function.typecheck.ts proves it). */
export function defineFunction<R extends RouteConfig>(definition: FunctionDefinition<R>): FunctionModule {
  return definition
}
