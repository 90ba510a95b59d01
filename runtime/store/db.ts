// The libSQL connection (embedded file or server URL) and the transaction helper every write path uses.
import fs from 'node:fs'
import path from 'node:path'
import { createClient, type Client, type Transaction, type InStatement, type Row } from '@libsql/client'

export type Db = Client
export type Tx = Transaction
/** Anything that can run a statement: the client itself or an open transaction. */
export type Executor = Pick<Client, 'execute'>

export function openDatabase(url: string, authToken?: string): Db {
  if (url.startsWith('file:')) {
    const file = url.slice('file:'.length).split('?')[0]
    if (file && file !== ':memory:') fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true })
  }
  // timeout = SQLite busy timeout (ms) for the embedded driver: the pool's connections wait for each other's locks.
  return createClient({ url, authToken, timeout: 5000 } as Parameters<typeof createClient>[0])
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
