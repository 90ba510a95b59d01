// Answers a list request with a page SQLite already serialised (runtime/store/pagination.ts, jsonPageReader): the same
// status, Content-Type and bytes as c.json(page, 200) would send, without parsing and serialising the page again.
import type { Context } from 'hono'
import type { JsonPage } from '../store/pagination.js'

export function jsonPageResponse(c: Context, page: JsonPage): Response {
  return c.body(page.json, 200, { 'Content-Type': 'application/json' })
}
