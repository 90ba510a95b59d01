// Keyset pagination shared by every list endpoint: order created_at DESC, id DESC; cursor = base64url of (created_at, id).
import type { Executor } from './db.js'
import { queryAll, queryOne } from './db.js'
import { ApiError } from '../contracts/errors.js'

export const DEFAULT_PAGE_LIMIT = 50
export const MAX_PAGE_LIMIT = 200

interface CursorKey { created_at: string; id: string }

export interface PageRequest { limit: number; after: CursorKey | null }
export interface Page<T> { items: T[]; next_cursor: string | null }

const TIMESTAMP_RE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/
const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

export function encodeCursor(row: CursorKey): string {
  return Buffer.from(JSON.stringify([row.created_at, row.id])).toString('base64url')
}

/** The decoded cursor, or null when it is not one we could have issued. */
export function decodeCursor(cursor: string): CursorKey | null {
  if (!/^[A-Za-z0-9_-]+$/.test(cursor)) return null
  try {
    const value: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'))
    if (!Array.isArray(value) || value.length !== 2) return null
    const [createdAt, id] = value
    if (typeof createdAt !== 'string' || typeof id !== 'string' || !TIMESTAMP_RE.test(createdAt) || !UUID_RE.test(id)) return null
    return { created_at: createdAt, id }
  } catch {
    return null
  }
}

/** Turns the `limit`/`cursor` query into a page request; an invalid cursor is the caller's error (400 bad_request). */
export function pageRequest(query: { limit?: number; cursor?: string }): PageRequest {
  const limit = query.limit ?? DEFAULT_PAGE_LIMIT
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_PAGE_LIMIT) {
    throw new ApiError('bad_request', `limit must be an integer from 1 to ${MAX_PAGE_LIMIT}`, { issues: [{ path: 'limit', message: 'out of range' }] })
  }
  if (query.cursor === undefined || query.cursor === '') return { limit, after: null }
  const after = decodeCursor(query.cursor)
  if (!after) throw new ApiError('bad_request', 'Invalid cursor; pass next_cursor from the previous page', { issues: [{ path: 'cursor', message: 'invalid cursor' }] })
  return { limit, after }
}

export interface PageSource {
  /** FROM clause, e.g. `sites` or `domains d JOIN environments e ON e.id = d.environment_id`. */
  from: string
  /** Select list; defaults to every column of the FROM clause. */
  select?: string
  /** AND-ed conditions with `?` placeholders, bound from `args` in order. */
  where?: string[]
  args?: unknown[]
  /** Table alias owning created_at and id when the FROM clause joins (e.g. `d`). */
  alias?: string
}

/** The page's SQL (limit + 1 rows, newest first) and its arguments. */
function pageQuery(source: PageSource, page: PageRequest): { sql: string; args: unknown[] } {
  const col = (name: string) => (source.alias ? `${source.alias}.${name}` : name)
  const where = [...(source.where ?? [])]
  const args = [...(source.args ?? [])]
  if (page.after) {
    // A row value, not `created_at < ? OR (created_at = ? AND id < ?)`: SQLite seeks an index on (created_at, id) to the
    // cursor with it, where the OR form walks the index from the newest row on every page.
    where.push(`(${col('created_at')}, ${col('id')}) < (?, ?)`)
    args.push(page.after.created_at, page.after.id)
  }
  const sql = `SELECT ${source.select ?? '*'} FROM ${source.from}${where.length ? ` WHERE ${where.join(' AND ')}` : ''}
    ORDER BY ${col('created_at')} DESC, ${col('id')} DESC LIMIT ?`
  return { sql, args: [...args, page.limit + 1] }
}

/** One page of rows: fetches limit + 1 to know whether a next page exists. */
export async function selectPage<T extends CursorKey>(ex: Executor, source: PageSource, page: PageRequest): Promise<Page<T>> {
  const { sql, args } = pageQuery(source, page)
  const rows = await queryAll<T>(ex, sql, args)
  const items = rows.slice(0, page.limit)
  const next = rows.length > page.limit ? items[items.length - 1] : undefined
  return { items, next_cursor: next ? encodeCursor(next) : null }
}

/** A page already serialised: the JSON text of `{ items, next_cursor }`, byte for byte what JSON.stringify gives. */
export interface JsonPage { readonly json: string }

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/

/**
 * A reader of pages as the JSON text of the response, built by SQLite, for list endpoints whose items are exactly some
 * columns of the rows in that order (the view is the column list). One string crosses the driver, whose cost is per
 * row, and the page is neither parsed nor serialised again in JS (docs/performance.md, "API"). The database is read on
 * every call.
 *
 * `columns` must hold TEXT or INTEGER values (or NULL): SQLite writes those as JSON.stringify does (strings with the
 * same escapes, integers as digits); a REAL would be formatted differently and a BLOB is not JSON. Each row's object is
 * made inside the LIMITed, ordered page query, where the columns come straight from the table's cursor; made outside,
 * every column value is first copied out of the subquery, which cost a third of the read (docs/performance.md, "API").
 * The objects are joined with commas in the subquery's order (an ORDER BY inside the aggregate would sort a second
 * time: +120 µs for 101 rows); tests/unit/db-rows.test.ts compares these pages byte for byte with JSON.stringify of the
 * page read row by row, page after page. The query's fixed parts are checked and built once, when the reader is made.
 */
export function jsonPageReader(source: Omit<PageSource, 'select'>, columns: readonly string[]): (ex: Executor, page: PageRequest) => Promise<JsonPage> {
  for (const column of columns) if (!IDENTIFIER.test(column)) throw new Error(`not a column name: ${column}`)
  if (!columns.includes('created_at') || !columns.includes('id')) throw new Error('a JSON page needs the created_at and id columns')
  const column = (name: string) => (source.alias ? `${source.alias}.${name}` : name)
  const object = `json_object(${columns.map((name) => `'${name}', ${column(name)}`).join(', ')})`
  const itemSource = { ...source, select: `${object} AS item` }
  // Every object starts with `{"<first column>":`, which occurs nowhere else (a quote inside a JSON string is always
  // escaped).
  const itemStart = `{"${columns[0]}":`
  return async (ex, page) => {
    const { sql, args } = pageQuery(itemSource, page)
    const row = await queryOne<{ items: string | null; n: number }>(ex, `SELECT group_concat(item, ',') AS items, count(*) AS n FROM (${sql})`, args)
    let items = `[${row!.items ?? ''}]`
    let nextCursor = 'null'
    if (row!.n > page.limit) {
      // Drop the extra row; the cursor is the key of the row that now ends the page.
      items = `${items.slice(0, items.lastIndexOf(`,${itemStart}`))}]`
      const last = JSON.parse(items.slice(items.lastIndexOf(itemStart), -1)) as CursorKey
      nextCursor = `"${encodeCursor(last)}"`
    }
    return { json: `{"items":${items},"next_cursor":${nextCursor}}` }
  }
}

/** Maps a page's rows to their API shape, keeping the cursor. */
export function mapPage<R, V>(page: Page<R>, view: (row: R) => V): Page<V> {
  return { items: page.items.map(view), next_cursor: page.next_cursor }
}
