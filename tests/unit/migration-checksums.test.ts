// Applied migrations are checked by checksum; 0001 before its header comment was reworded is the one accepted earlier
// version (its checksum, as databases of that time recorded it).
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { openDatabase } from '../../runtime/store/db.js'
import { migrate, MIGRATIONS_DIR } from '../../runtime/store/migrate.js'

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'pressluft-mig-sum-'))
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }))

const CURRENT_HEADER = '-- Initial schema: every table of the data model (docs/architecture.md) with its CHECK constraints and indexes.'
const EARLIER_CHECKSUM = '3c8cd3e7ac1399760e2a80f13608061b06e8c90b3b083167b444802933e7fa43'

function migrationsWith0001(dir: string, text: string): string {
  fs.mkdirSync(dir)
  fs.writeFileSync(path.join(dir, '0001_initial_schema.sql'), text)
  return dir
}

describe('applied migration checksums', () => {
  const current = fs.readFileSync(path.join(MIGRATIONS_DIR, '0001_initial_schema.sql'), 'utf8')

  it('starts a database that recorded 0001 with its earlier header comment, and records the current checksum', async () => {
    expect(current.startsWith(CURRENT_HEADER)).toBe(true)
    const db = openDatabase(`file:${path.join(tmp, 'earlier.db')}`)
    await migrate(db)
    await db.execute({ sql: "UPDATE schema_migrations SET checksum = ? WHERE version = '0001'", args: [EARLIER_CHECKSUM] })
    const before = (await db.execute("SELECT checksum FROM schema_migrations WHERE version = '0001'")).rows[0].checksum
    expect(await migrate(db)).not.toContain('0001_initial_schema.sql')
    const after = (await db.execute("SELECT checksum FROM schema_migrations WHERE version = '0001'")).rows[0].checksum
    expect(after).not.toBe(before)
    expect(await migrate(db)).toEqual([])
    db.close()
  })

  it('still refuses to start when an applied migration changed in any other way', async () => {
    const db = openDatabase(`file:${path.join(tmp, 'changed.db')}`)
    await migrate(db, migrationsWith0001(path.join(tmp, 'changed'), current.replace(CURRENT_HEADER, '-- some other text')))
    await expect(migrate(db)).rejects.toThrow(/was changed after it was applied/)
    db.close()
  })
})
