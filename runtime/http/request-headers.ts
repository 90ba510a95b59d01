// Request headers on the hot path, read without building a Fetch Headers object.
import type { IncomingMessage } from 'node:http'
import type { Context } from 'hono'
import { parse } from 'hono/utils/cookie'

/**
 * A request header (`name` in lower case). Under @hono/node-server, Hono's `c.req.header()` first turns Node's raw
 * header list into the request's Fetch `Headers`, which cost 15–20 µs of CPU per request in the server
 * (docs/performance.md, "API"); Node has already parsed the headers into `incoming.headers`, read here. Node's rules
 * for a repeated header apply: Cookie values are joined with "; ", most others with ", ", and of singletons such as
 * Authorization or Content-Type the first is kept. Without a Node request (`app.request()` in tests) Hono's reader.
 */
export function requestHeader(c: Context, name: string): string | undefined {
  const incoming = (c.env as { incoming?: IncomingMessage } | undefined)?.incoming
  if (!incoming) return c.req.header(name)
  const value = incoming.headers[name]
  return Array.isArray(value) ? value.join(', ') : value
}

/** One cookie of the request, decoded as Hono's getCookie decodes it. */
export function requestCookie(c: Context, name: string): string | undefined {
  const header = requestHeader(c, 'cookie')
  return header ? parse(header, name)[name] : undefined
}
