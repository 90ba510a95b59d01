// Validates a route's query string and path parameters with the route's zod schemas.
import type { Context, MiddlewareHandler } from 'hono'
import type { ZodError, ZodType } from 'zod'

export type ValidationFailed = (error: ZodError, c: Context) => Response

/**
 * Middlewares that validate the query string and the path parameters as zod-openapi's validators do (the same values,
 * the same schemas, `c.req.valid('query' | 'param')` afterwards), minus one thing: Hono's validator reads the request's
 * Content-Type for every target, which under @hono/node-server builds a Fetch Headers per request; a query or a path
 * parameter never needs it. Request bodies stay with zod-openapi (media-type gate, JSON parsing).
 */
export function validateQueryAndParams(schemas: { query?: ZodType; params?: ZodType }, failed: ValidationFailed): MiddlewareHandler[] {
  const validators: MiddlewareHandler[] = []
  if (schemas.query) validators.push(validateWith('query', schemas.query, queryValues, failed))
  if (schemas.params) validators.push(validateWith('param', schemas.params, (c) => c.req.param(), failed))
  return validators
}

/** The query string as Hono's validator gives it to a schema: a string per key, an array for a repeated key. */
function queryValues(c: Context): Record<string, string | string[]> {
  const values: Record<string, string | string[]> = {}
  for (const [key, list] of Object.entries(c.req.queries())) values[key] = list.length === 1 ? list[0] : list
  return values
}

function validateWith(target: 'query' | 'param', schema: ZodType, read: (c: Context) => unknown, failed: ValidationFailed): MiddlewareHandler {
  return async (c, next) => {
    const result = await schema.safeParseAsync(read(c))
    if (!result.success) return failed(result.error, c)
    c.req.addValidatedData(target, result.data as Record<string, unknown>)
    await next()
  }
}
