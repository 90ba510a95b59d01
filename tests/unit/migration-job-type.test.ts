// 0004 drops the SQL CHECK on jobs.job_type by rebuilding the table once: rows, indexes and foreign keys survive.
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { openDatabase, type Db } from '../../runtime/store/db.js'
import { migrate, MIGRATIONS_DIR } from '../../runtime/store/migrate.js'

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'pressluft-mig-'))
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }))

async function rows(db: Db, sql: string): Promise<Record<string, unknown>[]> {
  return (await db.execute(sql)).rows
}

describe('migration 0004_job_type_checked_in_code', () => {
  it('keeps every job row, audit reference and the nine jobs indexes, accepts a new type and still enforces foreign keys', async () => {
    const before = path.join(tmp, 'before')
    fs.mkdirSync(before)
    for (const name of fs.readdirSync(MIGRATIONS_DIR).filter((n) => n < '0004')) fs.copyFileSync(path.join(MIGRATIONS_DIR, name), path.join(before, name))
    const db = openDatabase(`file:${path.join(tmp, 'db.sqlite')}`)
    expect(await migrate(db, before)).toEqual(fs.readdirSync(before).sort())
    const at = new Date().toISOString()
    await db.batch([
      { sql: "INSERT INTO users (id, email, display_name, role, password_hash, is_active, created_at, updated_at) VALUES ('u1', 'a@b.c', 'A', 'admin', 'x', 1, ?, ?)", args: [at, at] },
      { sql: "INSERT INTO nodes (id, name, hostname, status, is_local, created_at, updated_at) VALUES ('n1', 'n1', 'h', 'active', 1, ?, ?)", args: [at, at] },
      { sql: "INSERT INTO jobs (id, job_type, status, node_id, requested_by, payload_json, created_at, updated_at) VALUES ('j1', 'node_provision', 'succeeded', 'n1', 'u1', '{}', ?, ?)", args: [at, at] },
      { sql: "INSERT INTO jobs (id, job_type, status, node_id, parent_job_id, payload_json, created_at, updated_at) VALUES ('j2', 'health_check', 'queued', 'n1', 'j1', '{\"a\":1}', ?, ?)", args: [at, at] },
      { sql: "INSERT INTO audit_logs (id, user_id, action, resource_type, resource_id, result, job_id, created_at) VALUES ('a1', 'u1', 'node_provision', 'node', 'n1', 'accepted', 'j1', ?)", args: [at] },
    ], 'write')
    await expect(db.execute({ sql: "INSERT INTO jobs (id, job_type, status, node_id, payload_json, created_at, updated_at) VALUES ('x', 'brand_new', 'queued', 'n1', '{}', ?, ?)", args: [at, at] }))
      .rejects.toThrow(/CHECK/)
    const indexesBefore = await rows(db, "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'jobs' ORDER BY name")
    const jobsBefore = await rows(db, 'SELECT * FROM jobs ORDER BY id')

    // Later migrations (0005, …) run after it in the same call.
    expect((await migrate(db))[0]).toBe('0004_job_type_checked_in_code.sql')
    expect(await rows(db, 'SELECT * FROM jobs ORDER BY id')).toEqual(jobsBefore)
    expect(await rows(db, "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'jobs' ORDER BY name")).toEqual(indexesBefore)
    expect(indexesBefore.filter((i) => i.sql !== null)).toHaveLength(9)
    expect(await rows(db, "SELECT job_id FROM audit_logs")).toEqual([{ job_id: 'j1' }])
    expect(await rows(db, 'PRAGMA foreign_key_check')).toEqual([])
    await db.execute({ sql: "INSERT INTO jobs (id, job_type, status, node_id, payload_json, created_at, updated_at) VALUES ('j3', 'brand_new', 'queued', 'n1', '{}', ?, ?)", args: [at, at] })
    await expect(db.execute({ sql: "INSERT INTO jobs (id, job_type, status, node_id, parent_job_id, payload_json, created_at, updated_at) VALUES ('j4', 'x', 'queued', 'n1', 'missing', '{}', ?, ?)", args: [at, at] }))
      .rejects.toThrow(/FOREIGN KEY/)
    await expect(db.execute({ sql: "INSERT INTO jobs (id, job_type, status, node_id, payload_json, created_at, updated_at) VALUES ('j5', 'x', 'paused', 'n1', '{}', ?, ?)", args: [at, at] }))
      .rejects.toThrow(/CHECK/)
    db.close()
  })
})
