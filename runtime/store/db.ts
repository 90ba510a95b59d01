// The libSQL database (embedded file or server URL) and the transaction helper every write path uses.
import fs from 'node:fs'
import path from 'node:path'
import Database from 'libsql'
import type { Client, InStatement, TransactionMode } from '@libsql/client'

export type { InStatement }

/** What callers get back from a statement: the part of @libsql/client's ResultSet this project uses. */
export interface QueryResult { rows: Record<string, unknown>[]; rowsAffected: number }

/**
 * How a statement is run. `firstRowOnly`: the caller reads at most the first row of a SELECT (queryOne), so the embedded
 * driver fetches just that row (its single-row call costs a fraction of its row iterator, docs/performance.md "API");
 * other executors may still return every row.
 */
export interface ExecuteOptions { firstRowOnly?: boolean }

/** Anything that can run a statement: the database itself or an open transaction. */
export interface Executor { execute(stmt: InStatement, options?: ExecuteOptions): Promise<QueryResult> }
export interface Tx extends Executor { commit(): Promise<void>; rollback(): Promise<void>; close(): void }
export interface Db extends Executor {
  batch(stmts: InStatement[], mode?: TransactionMode): Promise<QueryResult[]>
  transaction(mode?: TransactionMode): Promise<Tx>
  close(): void
}

/**
 * Embedded files use the synchronous `libsql` driver directly (several times faster than @libsql/client's row
 * decoding, see docs/performance.md); any other URL (libsql://, http(s)://, ws(s)://) goes through @libsql/client.
 */
export function openDatabase(url: string, authToken?: string): Db {
  if (url.startsWith('file:')) {
    const file = url.slice('file:'.length).split('?')[0]
    if (file && file !== ':memory:') fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true, mode: 0o700 })
    return serializeWrites(new EmbeddedDb(file))
  }
  // @libsql/client (with its WebSocket and HTTP clients) is loaded only for a server URL: embedded installs never need it,
  // and loading it costs several MB of resident memory (docs/performance.md, "API").
  const client = import('@libsql/client').then(({ createClient }) => createClient({ url, authToken }))
  client.catch(() => undefined) // the first statement reports the failure
  return serializeWrites(new RemoteDb(client))
}

function sqlAndArgs(stmt: InStatement): { sql: string; args: unknown[] } {
  if (typeof stmt === 'string') return { sql: stmt, args: [] }
  const args = stmt.args ?? []
  return { sql: stmt.sql, args: Array.isArray(args) ? args : [args] }
}

function bindable(value: unknown): unknown {
  if (typeof value === 'boolean') return value ? 1 : 0
  return value === undefined ? null : value
}

function columnNames(stmt: { columns(): { name: string }[] }): string[] {
  return stmt.columns().map((column) => column.name)
}

/**
 * Row objects from raw rows, as the driver's object mode makes them: one property per column in order (a later
 * column of the same name wins), BLOBs as ArrayBuffer (raw mode gives a Buffer).
 */
function toObjects(raw: unknown[][], columns: string[]): Record<string, unknown>[] {
  const rows: Record<string, unknown>[] = new Array(raw.length)
  for (let i = 0; i < raw.length; i++) {
    const values = raw[i]
    const row: Record<string, unknown> = {}
    for (let j = 0; j < columns.length; j++) {
      const value = values[j]
      row[columns[j]] = value instanceof Uint8Array ? value.buffer.slice(value.byteOffset, value.byteOffset + value.byteLength) : value
    }
    rows[i] = row
  }
  return rows
}

type Connection = InstanceType<typeof Database>
interface Statement {
  readonly reader: boolean
  raw(toggle?: boolean): Statement
  columns(): { name: string }[]
  all(...params: unknown[]): unknown[]
  get(...params: unknown[]): unknown
  run(...params: unknown[]): { changes: number | bigint }
}

/** A prepared statement with what run() needs to know about it, read from the driver once. */
interface Prepared {
  stmt: Statement
  /** Returns rows (SELECT, PRAGMA, … RETURNING): executed in raw mode, rows built here from `columns`. */
  reader: boolean
  /** rowsAffected is 0 for these readers, the row count for the others (… RETURNING). */
  query: boolean
  columns: string[]
}

const DDL = /^\s*(CREATE|ALTER|DROP)\b/i

/**
 * One write connection (transactions, batches, writes — serialized by the caller's lock) and one read connection,
 * so a read never sees another request's uncommitted transaction (WAL gives it the last committed snapshot).
 */
class EmbeddedDb implements Db {
  private readonly writer: Connection
  private readonly reader: Connection

  constructor(file: string) {
    // timeout = busy timeout (ms), for writers in other processes (an operator's sqlite3 shell, a second tool).
    this.writer = new Database(file, { timeout: 5000 } as never)
    this.writer.exec('PRAGMA journal_mode = WAL; PRAGMA foreign_keys = ON; PRAGMA synchronous = NORMAL')
    this.reader = new Database(file, { timeout: 5000 } as never)
    this.reader.exec('PRAGMA foreign_keys = ON')
  }

  // Prepared statements per connection: the SQL texts are the store's constants, so the cache stays small.
  private readonly statements = new Map<Connection, Map<string, Prepared>>()

  private prepare(conn: Connection, sql: string): Prepared {
    let cache = this.statements.get(conn)
    if (!cache) { cache = new Map(); this.statements.set(conn, cache) }
    let prepared = cache.get(sql)
    if (!prepared) {
      const stmt = conn.prepare(sql) as unknown as Statement
      const reader = stmt.reader
      // Raw mode: the driver hands over arrays, and the row objects are built here. The driver's own row objects cost
      // it a property definition per cell; this is about twice as fast for a page of rows (docs/performance.md, "API").
      if (reader) stmt.raw(true)
      prepared = { stmt, reader, query: /^\s*(SELECT|EXPLAIN|PRAGMA)\b/i.test(sql), columns: reader ? columnNames(stmt) : [] }
      if (cache.size >= 500) cache.delete(cache.keys().next().value!)
      cache.set(sql, prepared)
    }
    return prepared
  }

  private run(conn: Connection, stmt: InStatement, firstRowOnly = false): QueryResult {
    const { sql, args } = sqlAndArgs(stmt)
    const prepared = this.prepare(conn, sql)
    const params = args.map(bindable)
    if (prepared.reader) {
      // Only for plain queries: a statement with RETURNING keeps reporting every row it changed.
      let raw: unknown[][]
      if (firstRowOnly && prepared.query) {
        const row = prepared.stmt.get(...params) as unknown[] | undefined
        raw = row === undefined ? [] : [row]
      } else {
        raw = prepared.stmt.all(...params) as unknown[][]
      }
      // SQLite re-prepares a statement whose tables changed; its columns are read again when their number moved.
      if (raw.length > 0 && raw[0].length !== prepared.columns.length) prepared.columns = columnNames(prepared.stmt)
      const rows = toObjects(raw, prepared.columns)
      return { rows, rowsAffected: prepared.query ? 0 : rows.length }
    }
    const changes = Number(prepared.stmt.run(...params).changes)
    // A schema change may rename columns of cached SELECTs: start over with fresh statements (migrations only).
    if (DDL.test(sql)) this.statements.clear()
    return { rows: [], rowsAffected: changes }
  }

  async execute(stmt: InStatement, options?: ExecuteOptions): Promise<QueryResult> {
    return this.run(isReadOnly(stmt) ? this.reader : this.writer, stmt, options?.firstRowOnly)
  }

  async batch(stmts: InStatement[]): Promise<QueryResult[]> {
    this.writer.exec('BEGIN IMMEDIATE')
    try {
      const results = stmts.map((stmt) => this.run(this.writer, stmt))
      this.writer.exec('COMMIT')
      return results
    } catch (error) {
      if (this.writer.inTransaction) this.writer.exec('ROLLBACK')
      throw error
    }
  }

  async transaction(): Promise<Tx> {
    const conn = this.writer
    conn.exec('BEGIN IMMEDIATE')
    let open = true
    const end = (sql: string) => { if (open) { open = false; if (conn.inTransaction) conn.exec(sql) } }
    return {
      execute: async (stmt, options) => {
        if (!open) throw new Error('transaction already finished')
        return this.run(conn, stmt, options?.firstRowOnly)
      },
      commit: async () => end('COMMIT'),
      rollback: async () => end('ROLLBACK'),
      close: () => end('ROLLBACK'),
    }
  }

  close(): void {
    this.reader.close()
    this.writer.close()
  }
}

/** A libSQL server through @libsql/client; results are reduced to the same plain shape as the embedded driver's. */
class RemoteDb implements Db {
  constructor(private readonly client: Promise<Client>) {}

  async execute(stmt: InStatement): Promise<QueryResult> {
    return plain(await (await this.client).execute(stmt))
  }

  async batch(stmts: InStatement[], mode: TransactionMode = 'write'): Promise<QueryResult[]> {
    return (await (await this.client).batch(stmts, mode)).map(plain)
  }

  async transaction(mode: TransactionMode = 'write'): Promise<Tx> {
    const tx = await (await this.client).transaction(mode)
    return {
      execute: async (stmt) => plain(await tx.execute(stmt)),
      commit: () => tx.commit(),
      rollback: () => tx.rollback(),
      close: () => tx.close(),
    }
  }

  close(): void {
    void this.client.then((client) => client.close(), () => undefined)
  }
}

function plain(result: { rows: ArrayLike<unknown>; columns: string[]; rowsAffected: number }): QueryResult {
  const rows: Record<string, unknown>[] = []
  for (let i = 0; i < result.rows.length; i++) {
    const row = result.rows[i] as Record<string, unknown>
    const out: Record<string, unknown> = {}
    for (const column of result.columns) out[column] = typeof row[column] === 'bigint' ? Number(row[column]) : row[column]
    rows.push(out)
  }
  return { rows, rowsAffected: result.rowsAffected }
}

/** A FIFO async mutex: one holder at a time, waiters served in arrival order. */
class WriteLock {
  private tail: Promise<void> = Promise.resolve()

  acquire(): Promise<() => void> {
    let release!: () => void
    const held = new Promise<void>((resolve) => { release = resolve })
    const ready = this.tail.then(() => release)
    this.tail = this.tail.then(() => held)
    return ready
  }
}

function isReadOnly(stmt: InStatement): boolean {
  const sql = typeof stmt === 'string' ? stmt : stmt.sql
  return /^\s*(SELECT|EXPLAIN)\b/i.test(sql)
}

/**
 * Serializes this process's writes. The embedded driver is synchronous: a write that meets another connection's open
 * write transaction blocks the event loop in the busy handler, so the transaction holding the lock can never finish
 * and the waiter fails with SQLITE_BUSY. Queueing writes in JavaScript instead makes them wait without blocking;
 * reads never wait (WAL). A write issued on the client from inside an open transaction would deadlock: use the tx.
 */
function serializeWrites(db: Db): Db {
  const lock = new WriteLock()
  const guarded = async <T>(fn: () => Promise<T>): Promise<T> => {
    const release = await lock.acquire()
    try { return await fn() } finally { release() }
  }
  return {
    execute: (stmt, options) => (isReadOnly(stmt) ? db.execute(stmt, options) : guarded(() => db.execute(stmt, options))),
    batch: (stmts, mode) => (mode === 'read' ? db.batch(stmts, mode) : guarded(() => db.batch(stmts, mode))),
    async transaction(mode) {
      if (mode === 'read') return db.transaction(mode)
      const release = await lock.acquire()
      let tx: Tx
      try { tx = await db.transaction(mode) } catch (error) { release(); throw error }
      // The lock is released exactly once, on commit, rollback or close.
      let released = false
      const once = () => { if (!released) { released = true; release() } }
      return {
        execute: (stmt, options) => tx.execute(stmt, options),
        commit: async () => { try { await tx.commit() } finally { once() } },
        rollback: async () => { try { await tx.rollback() } finally { once() } },
        close: () => { try { tx.close() } finally { once() } },
      }
    },
    close: () => db.close(),
  }
}

export async function prepareDatabase(db: Db): Promise<void> {
  // The embedded adapter sets WAL itself; a check that the database answers is all a server needs.
  await db.execute('SELECT 1')
}

/** Runs fn in one write transaction: committed if fn resolves, rolled back if it throws. */
export async function inTransaction<T>(db: Db, fn: (tx: Tx) => Promise<T>): Promise<T> {
  const tx = await db.transaction('write')
  try {
    const result = await fn(tx)
    await tx.commit()
    return result
  } catch (error) {
    await tx.rollback().catch(() => undefined)
    throw error
  } finally {
    tx.close()
  }
}

/** Runs several statements atomically in one round trip (one transaction, no interactive connection). */
export async function batchWrite(db: Db, statements: InStatement[]) {
  return db.batch(statements, 'write')
}

export async function queryAll<T>(ex: Executor, sql: string, args: unknown[] = []): Promise<T[]> {
  const result = await ex.execute({ sql, args: args as never })
  return result.rows as T[]
}

export async function queryOne<T>(ex: Executor, sql: string, args: unknown[] = []): Promise<T | undefined> {
  const result = await ex.execute({ sql, args: args as never }, { firstRowOnly: true })
  return result.rows[0] as T | undefined
}

export async function run(ex: Executor, sql: string, args: unknown[] = []): Promise<number> {
  const result = await ex.execute({ sql, args: args as never })
  return result.rowsAffected
}
