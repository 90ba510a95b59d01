// 0005 rebuilds the settings table to admit the key import_allowed_sources: existing rows survive, unknown keys are
// still refused by the CHECK.
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { openDatabase } from '../../runtime/store/db.js'
import { migrate, MIGRATIONS_DIR } from '../../runtime/store/migrate.js'

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'pressluft-mig5-'))
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }))

describe('migration 0005_setting_import_allowed_sources', () => {
  it('keeps every settings row, admits import_allowed_sources and still refuses unknown keys', async () => {
    const before = path.join(tmp, 'before')
    fs.mkdirSync(before)
    for (const name of fs.readdirSync(MIGRATIONS_DIR).filter((n) => n < '0005')) fs.copyFileSync(path.join(MIGRATIONS_DIR, name), path.join(before, name))
    const db = openDatabase(`file:${path.join(tmp, 'db.sqlite')}`)
    await migrate(db, before)
    const at = new Date().toISOString()
    await db.execute({ sql: "INSERT INTO settings (key, value, updated_at) VALUES ('backup_retention_days', '7', ?), ('backup_s3_secret_access_key', 'secret:settings/backup_s3_secret_access_key', ?)", args: [at, at] })
    await expect(db.execute({ sql: "INSERT INTO settings (key, value, updated_at) VALUES ('import_allowed_sources', '10.0.0.0/8', ?)", args: [at] })).rejects.toThrow(/CHECK/)
    const rowsBefore = (await db.execute('SELECT * FROM settings ORDER BY key')).rows

    expect(await migrate(db)).toContain('0005_setting_import_allowed_sources.sql')
    expect((await db.execute('SELECT * FROM settings ORDER BY key')).rows).toEqual(rowsBefore)
    await db.execute({ sql: "INSERT INTO settings (key, value, updated_at) VALUES ('import_allowed_sources', '10.0.0.0/8', ?)", args: [at] })
    await expect(db.execute({ sql: "INSERT INTO settings (key, value, updated_at) VALUES ('no_such_key', 'x', ?)", args: [at] })).rejects.toThrow(/CHECK/)
    db.close()
  })
})
