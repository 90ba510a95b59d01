// Applies runtime/store/migrations/NNNN_<what>.sql in order, each with its schema_migrations row in one transaction.
import fs from 'node:fs'
import path from 'node:path'
import crypto from 'node:crypto'
import { fileURLToPath } from 'node:url'
import type { Db, InStatement } from './db.js'
import { inTransaction, queryAll } from './db.js'
import { nowIso } from '../clock.js'

export const MIGRATIONS_DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), 'migrations')

export class MigrationError extends Error {}

interface MigrationFile { version: string; name: string; sql: string; checksum: string }

function readMigrations(dir: string): MigrationFile[] {
  return fs.readdirSync(dir)
    .filter((name) => /^\d{4}_[a-z0-9_]+\.sql$/.test(name))
    .sort()
    .map((name) => {
      const sql = fs.readFileSync(path.join(dir, name), 'utf8')
      return { version: name.slice(0, 4), name, sql, checksum: crypto.createHash('sha256').update(sql).digest('hex') }
    })
}

/** Splits a migration into statements; our migrations contain no semicolons inside literals or triggers. */
function statements(sql: string): string[] {
  return sql
    .split('\n').filter((line) => !line.trim().startsWith('--')).join('\n')
    .split(';').map((s) => s.trim()).filter(Boolean)
}

/** A migration that rebuilds a table other tables reference (SQLite's documented procedure for schema changes). */
const FOREIGN_KEYS_OFF = /^-- pressluft:foreign-keys-off$/m

/**
 * Foreign keys are switched off outside the transaction (SQLite ignores the pragma inside one) and checked with
 * PRAGMA foreign_key_check before the commit; any violation rolls the migration back.
 */
async function applyWithoutForeignKeys(db: Db, file: MigrationFile, stmts: InStatement[]): Promise<void> {
  await db.execute('PRAGMA foreign_keys = OFF')
  try {
    await inTransaction(db, async (tx) => {
      for (const stmt of stmts) await tx.execute(stmt)
      const violations = await tx.execute('PRAGMA foreign_key_check')
      if (violations.rows.length) throw new MigrationError(`migration ${file.name} would break ${violations.rows.length} foreign key reference(s); rolled back`)
    })
  } finally {
    await db.execute('PRAGMA foreign_keys = ON')
  }
}

/**
 * Checksums an applied migration may still carry from an earlier text of the same file: 0001's header comment was
 * reworded after release (it cited a document outside the repository). Only comments changed; a database that
 * recorded the earlier text is accepted and its record updated to the current checksum.
 */
const EARLIER_CHECKSUMS: Record<string, readonly string[]> = {
  '0001': ['3c8cd3e7ac1399760e2a80f13608061b06e8c90b3b083167b444802933e7fa43'],
}

export async function migrate(db: Db, dir = MIGRATIONS_DIR): Promise<string[]> {
  await db.execute(`CREATE TABLE IF NOT EXISTS schema_migrations (
    version TEXT PRIMARY KEY, name TEXT NOT NULL, checksum TEXT NOT NULL, applied_at TEXT NOT NULL)`)
  const applied = new Map((await queryAll<{ version: string; checksum: string; name: string }>(db,
    'SELECT version, checksum, name FROM schema_migrations')).map((row) => [row.version, row]))
  const done: string[] = []
  for (const file of readMigrations(dir)) {
    const existing = applied.get(file.version)
    if (existing) {
      if (existing.checksum !== file.checksum && EARLIER_CHECKSUMS[file.version]?.includes(existing.checksum)) {
        await db.execute({ sql: 'UPDATE schema_migrations SET checksum = ? WHERE version = ?', args: [file.checksum, file.version] })
      } else if (existing.checksum !== file.checksum) {
        throw new MigrationError(`migration ${file.name} was changed after it was applied (checksum differs); refusing to start`)
      }
      continue
    }
    const record = { sql: 'INSERT INTO schema_migrations (version, name, checksum, applied_at) VALUES (?, ?, ?, ?)', args: [file.version, file.name, file.checksum, nowIso()] }
    if (FOREIGN_KEYS_OFF.test(file.sql)) await applyWithoutForeignKeys(db, file, [...statements(file.sql), record])
    else await db.batch([...statements(file.sql), record], 'write')
    done.push(file.name)
  }
  return done
}
