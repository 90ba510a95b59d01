// The libSQL connection (embedded file or server URL) and the transaction helper every write path uses.
import fs from 'node:fs'
import path from 'node:path'
import { createClient, type Client, type Transaction, type InStatement, type Row, type ResultSet, type TransactionMode } from '@libsql/client'

export type Db = Client
export type Tx = Transaction
/** Anything that can run a statement: the client itself or an open transaction. */
export type Executor = Pick<Client, 'execute'>

export function openDatabase(url: string, authToken?: string): Db {
  if (url.startsWith('file:')) {
    const file = url.slice('file:'.length).split('?')[0]
    if (file && file !== ':memory:') fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true })
  }
  // timeout = SQLite busy timeout (ms) for the embedded driver, for writers in other processes (the lab CLI, sqlite3).
  return serializeWrites(createClient({ url, authToken, timeout: 5000 } as Parameters<typeof createClient>[0]))
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
function serializeWrites(client: Client): Client {
  const lock = new WriteLock()
  const guarded = async <T>(fn: () => Promise<T>): Promise<T> => {
    const release = await lock.acquire()
    try { return await fn() } finally { release() }
  }
  return new Proxy(client, {
    get(target, prop, receiver) {
      if (prop === 'execute') {
        return (stmt: InStatement, args?: unknown) => (isReadOnly(stmt)
          ? (target.execute as (...a: unknown[]) => Promise<ResultSet>)(stmt, args)
          : guarded(() => (target.execute as (...a: unknown[]) => Promise<ResultSet>)(stmt, args)))
      }
      if (prop === 'batch') {
        return (stmts: InStatement[], mode?: TransactionMode) => (mode === 'read'
          ? target.batch(stmts, mode)
          : guarded(() => target.batch(stmts, mode)))
      }
      if (prop === 'executeMultiple') return (sql: string) => guarded(() => target.executeMultiple(sql))
      if (prop === 'transaction') {
        return async (mode?: TransactionMode) => {
          if (mode === 'read') return target.transaction(mode)
          const release = await lock.acquire()
          try {
            const tx = await target.transaction(mode)
            return releaseWhenSettled(tx, release)
          } catch (error) {
            release()
            throw error
          }
        }
      }
      const value = Reflect.get(target, prop, receiver)
      return typeof value === 'function' ? value.bind(target) : value
    },
  })
}

/** Wraps a transaction so the write lock is released exactly once, on commit, rollback or close. */
function releaseWhenSettled(tx: Transaction, release: () => void): Transaction {
  let released = false
  const once = () => { if (!released) { released = true; release() } }
  return new Proxy(tx, {
    get(target, prop, receiver) {
      if (prop === 'commit' || prop === 'rollback') {
        return async () => { try { await (target[prop] as () => Promise<void>).call(target) } finally { once() } }
      }
      if (prop === 'close') return () => { try { target.close() } finally { once() } }
      const value = Reflect.get(target, prop, receiver)
      return typeof value === 'function' ? value.bind(target) : value
    },
  })
}

export async function prepareDatabase(db: Db): Promise<void> {
  // WAL persists in the file; it lets readers run while the scheduler writes. Remote servers ignore it.
  try { await db.execute('PRAGMA journal_mode = WAL') } catch { /* not supported on every server */ }
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
  return result.rows.map((row) => plainRow(row) as T)
}

export async function queryOne<T>(ex: Executor, sql: string, args: unknown[] = []): Promise<T | undefined> {
  const rows = await queryAll<T>(ex, sql, args)
  return rows[0]
}

export async function run(ex: Executor, sql: string, args: unknown[] = []): Promise<number> {
  const result = await ex.execute({ sql, args: args as never })
  return result.rowsAffected
}

function plainRow(row: Row): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const [key, value] of Object.entries(row)) out[key] = typeof value === 'bigint' ? Number(value) : value
  return out
}
