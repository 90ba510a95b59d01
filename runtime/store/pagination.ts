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
  /**
   * The page's columns (their names in the result, none a BLOB). Given them, SQLite packs the page into one JSON array
   * (json_group_array) and one value crosses the driver instead of limit + 1 rows: the embedded driver's cost is per row
   * (docs/performance.md, "API"). Without them the rows are read as they are.
   */
  columns?: readonly string[]
}

/** One page of rows: fetches limit + 1 to know whether a next page exists. */
export async function selectPage<T extends CursorKey>(ex: Executor, source: PageSource, page: PageRequest): Promise<Page<T>> {
  const col = (name: string) => (source.alias ? `${source.alias}.${name}` : name)
  const where = [...(source.where ?? [])]
  const args = [...(source.args ?? [])]
  if (page.after) {
    where.push(`(${col('created_at')} < ? OR (${col('created_at')} = ? AND ${col('id')} < ?))`)
    args.push(page.after.created_at, page.after.created_at, page.after.id)
  }
  const sql = `SELECT ${source.select ?? '*'} FROM ${source.from}${where.length ? ` WHERE ${where.join(' AND ')}` : ''}
    ORDER BY ${col('created_at')} DESC, ${col('id')} DESC LIMIT ?`
  const rows = source.columns
    ? await packedRows<T>(ex, source.columns, sql, [...args, page.limit + 1])
    : await queryAll<T>(ex, sql, [...args, page.limit + 1])
  const items = rows.slice(0, page.limit)
  const next = rows.length > page.limit ? items[items.length - 1] : undefined
  return { items, next_cursor: next ? encodeCursor(next) : null }
}

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/

/**
 * The rows of `sql` (ordered by created_at DESC, id DESC), read as one JSON array of arrays that SQLite builds. JSON
 * keeps what the driver gives for the other column types: TEXT as string, INTEGER and REAL as number, NULL as null.
 * SQLite aggregates a LIMITed subquery in the subquery's order, but SQL does not promise it (an ORDER BY inside
 * json_group_array would, at the price of a second sort): the order is checked here and restored if it ever differs.
 */
async function packedRows<T>(ex: Executor, columns: readonly string[], sql: string, args: unknown[]): Promise<T[]> {
  for (const column of columns) if (!IDENTIFIER.test(column)) throw new Error(`not a column name: ${column}`)
  const createdAt = columns.indexOf('created_at')
  const id = columns.indexOf('id')
  if (createdAt < 0 || id < 0) throw new Error('a packed page needs the created_at and id columns')
  const row = await queryOne<{ page: string }>(ex, `SELECT json_group_array(json_array(${columns.join(', ')})) AS page FROM (${sql})`, args)
  const packed = JSON.parse(row!.page) as unknown[][]
  const before = (a: unknown[], b: unknown[]) => (a[createdAt] as string) > (b[createdAt] as string)
    || (a[createdAt] === b[createdAt] && (a[id] as string) > (b[id] as string))
  for (let i = 1; i < packed.length; i++) {
    if (!before(packed[i - 1], packed[i])) { packed.sort((a, b) => (before(a, b) ? -1 : 1)); break }
  }
  const rows = new Array<T>(packed.length)
  for (let i = 0; i < packed.length; i++) {
    const values = packed[i]
    const item: Record<string, unknown> = {}
    for (let j = 0; j < columns.length; j++) item[columns[j]] = values[j]
    rows[i] = item as T
  }
  return rows
}

/** Maps a page's rows to their API shape, keeping the cursor. */
export function mapPage<R, V>(page: Page<R>, view: (row: R) => V): Page<V> {
  return { items: page.items.map(view), next_cursor: page.next_cursor }
}
