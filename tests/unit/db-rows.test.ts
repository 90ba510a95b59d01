// The embedded driver's rows (raw mode, objects built in runtime/store/db.ts) look as the driver's own row objects did,
// and a page serialised by SQLite (jsonPageReader, used by GET /api/sites) is byte for byte JSON.stringify of the page
// read row by row, cursor included.
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import crypto from 'node:crypto'
import Database from 'libsql'
import { afterAll, describe, expect, it, vi } from 'vitest'
import { openDatabase, batchWrite, queryOne, inTransaction } from '../../runtime/store/db.js'
import { migrate } from '../../runtime/store/migrate.js'
import { selectPage, pageRequest, mapPage } from '../../runtime/store/pagination.js'
import { listSites, type SiteRow } from '../../runtime/store/sites.js'
import { siteView } from '../../runtime/sites/site-service.js'

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'pressluft-db-rows-'))
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }))

describe('embedded driver rows', () => {
  it('keep the driver object mode: types, BLOB as ArrayBuffer, a later duplicate column wins, rowsAffected', async () => {
    const file = path.join(tmp, 'types.db')
    const db = openDatabase(`file:${file}`)
    await db.execute('CREATE TABLE t (id INTEGER PRIMARY KEY, s TEXT, r REAL, b BLOB, n TEXT)')
    await db.execute({ sql: 'INSERT INTO t (id, s, r, b, n) VALUES (?, ?, ?, ?, ?)', args: [1, 'eins', 1.5, new Uint8Array([0, 255]), null] })
    const driver = new Database(file)
    const expected = driver.prepare('SELECT *, 7 AS id FROM t').all()
    driver.close()

    const { rows, rowsAffected } = await db.execute('SELECT *, 7 AS id FROM t')
    expect(rowsAffected).toBe(0)
    expect(rows).toEqual(expected)
    expect(rows[0]).toEqual({ id: 7, s: 'eins', r: 1.5, b: expect.any(ArrayBuffer), n: null })
    expect(Object.keys(rows[0])).toEqual(['id', 's', 'r', 'b', 'n'])
    expect([...new Uint8Array(rows[0].b as ArrayBuffer)]).toEqual([0, 255])

    const returning = await db.execute({ sql: 'INSERT INTO t (id, s) VALUES (?, ?), (?, ?) RETURNING id', args: [2, 'zwei', 3, 'drei'] })
    expect(returning.rows).toEqual([{ id: 2 }, { id: 3 }])
    expect(returning.rowsAffected).toBe(2)
    db.close()
  })

  it('queryOne reads the first row through the single-row call, in the query order, and changes every row a RETURNING statement touches', async () => {
    const db = openDatabase(`file:${path.join(tmp, 'one.db')}`)
    await db.execute('CREATE TABLE t (id INTEGER PRIMARY KEY, s TEXT, b BLOB)')
    await db.execute({ sql: 'INSERT INTO t (id, s, b) VALUES (1, ?, ?), (2, ?, NULL), (3, ?, NULL)', args: ['a', new Uint8Array([9]), 'b', 'c'] })
    const statement = Object.getPrototypeOf(new Database(':memory:').prepare('SELECT 1')) as { get: () => unknown; all: () => unknown }
    const get = vi.spyOn(statement, 'get')
    const all = vi.spyOn(statement, 'all')
    expect(await queryOne(db, 'SELECT id, s FROM t ORDER BY id DESC')).toEqual({ id: 3, s: 'c' })
    expect([get.mock.calls.length, all.mock.calls.length]).toEqual([1, 0])
    get.mockRestore()
    all.mockRestore()
    expect(await queryOne(db, 'SELECT id FROM t WHERE id > ?', [9])).toBeUndefined()
    const first = await queryOne<{ b: ArrayBuffer }>(db, 'SELECT b FROM t WHERE id = 1')
    expect([...new Uint8Array(first!.b)]).toEqual([9])
    // The same statement read again after a full read, and inside a transaction, answers the same.
    expect((await db.execute('SELECT id, s FROM t ORDER BY id DESC')).rows).toHaveLength(3)
    expect(await queryOne(db, 'SELECT id, s FROM t ORDER BY id DESC')).toEqual({ id: 3, s: 'c' })
    expect(await inTransaction(db, (tx) => queryOne(tx, 'SELECT id, s FROM t ORDER BY id DESC'))).toEqual({ id: 3, s: 'c' })
    // A caller asking for one row of an UPDATE … RETURNING still changes all of them.
    expect([1, 2, 3]).toContain((await queryOne<{ id: number }>(db, "UPDATE t SET s = s || '!' RETURNING id"))!.id)
    expect((await db.execute('SELECT s FROM t ORDER BY id')).rows).toEqual([{ s: 'a!' }, { s: 'b!' }, { s: 'c!' }])
    db.close()
  })

  it('a cached SELECT * sees columns added later, by this process (ALTER TABLE) or by another one', async () => {
    const file = path.join(tmp, 'schema.db')
    const db = openDatabase(`file:${file}`)
    await db.execute('CREATE TABLE t (id INTEGER PRIMARY KEY, a TEXT)')
    await db.execute("INSERT INTO t (id, a) VALUES (1, 'x')")
    expect((await db.execute('SELECT * FROM t')).rows).toEqual([{ id: 1, a: 'x' }])

    await db.execute("ALTER TABLE t ADD COLUMN b TEXT DEFAULT 'y'")
    expect((await db.execute('SELECT * FROM t')).rows).toEqual([{ id: 1, a: 'x', b: 'y' }])

    const other = new Database(file)
    other.exec("ALTER TABLE t ADD COLUMN c INTEGER DEFAULT 3")
    other.close()
    expect((await db.execute('SELECT * FROM t')).rows).toEqual([{ id: 1, a: 'x', b: 'y', c: 3 }])
    db.close()
  })
})

describe('pages serialised by SQLite (jsonPageReader)', () => {
  it('are JSON.stringify of the rows read one by one, page after page, with awkward names and a null column', async () => {
    const db = openDatabase(`file:${path.join(tmp, 'sites.db')}`)
    await migrate(db)
    const names = ['Quote " and \\ backslash', 'Zeilen\numbruch\tTab', 'Ümlaut ✓ 😀', 'ctrl \u0001 \u001f \u007f char', '<script>', '{"id":"x"}, {"id":', 'line\u2028sep']
    const base = Date.parse('2026-11-01T00:00:00.000Z')
    const statements = []
    for (let i = 0; i < 23; i++) {
      // Pairs of equal created_at, so the id decides the order and the cursor.
      const ts = new Date(base - Math.floor(i / 2) * 1000).toISOString()
      statements.push({
        sql: "INSERT INTO sites (id, name, slug, status, created_at, updated_at, state_version) VALUES (?, ?, ?, 'active', ?, ?, ?)",
        args: [crypto.randomUUID(), names[i % names.length], `site-${i}`, ts, ts, i + 1],
      })
    }
    await batchWrite(db, statements)

    // Every site once, newest first, the id breaking ties — however the pages cut the list.
    const newestFirst = statements.map((st) => ({ id: st.args[0] as string, created_at: st.args[3] as string }))
      .sort((a, b) => (a.created_at === b.created_at ? (a.id < b.id ? 1 : -1) : a.created_at < b.created_at ? 1 : -1)).map((r) => r.id)
    for (const limit of [1, 5, 7, 23, 50]) {
      let cursor: string | undefined
      const seen: string[] = []
      for (;;) {
        const page = pageRequest({ limit, cursor })
        const { json } = await listSites(db, page)
        const plain = mapPage(await selectPage<SiteRow>(db, { from: 'sites' }, page), siteView)
        expect(json).toBe(JSON.stringify(plain))
        seen.push(...plain.items.map((item) => item.id))
        if (!plain.next_cursor) break
        cursor = plain.next_cursor
      }
      expect(seen).toEqual(newestFirst)
    }
    db.close()
  })

  it('after a cursor seek the index to it instead of walking every newer row (query plan of sites and jobs)', async () => {
    const db = openDatabase(`file:${path.join(tmp, 'plans.db')}`)
    await migrate(db)
    const statements: string[] = []
    const recorder = { execute: (stmt: Parameters<typeof db.execute>[0], options?: Parameters<typeof db.execute>[1]) => {
      statements.push(typeof stmt === 'string' ? stmt : stmt.sql)
      return db.execute(stmt, options)
    } }
    const after = pageRequest({ limit: 10, cursor: Buffer.from(JSON.stringify(['2026-11-01T00:00:00.000Z', crypto.randomUUID()])).toString('base64url') })
    await listSites(recorder, after)
    await selectPage(recorder, { from: 'jobs' }, after)
    expect(statements).toHaveLength(2)
    for (const sql of statements) {
      const args = [...sql.matchAll(/\?/g)].map(() => 'x')
      const plan = (await db.execute({ sql: `EXPLAIN QUERY PLAN ${sql}`, args })).rows.map((r) => String((r as { detail: string }).detail))
      expect(plan.join('; '), sql).toMatch(/SEARCH (sites|jobs) USING (COVERING )?INDEX \w+ \(\(created_at,id\)<\(\?,\?\)\)/)
    }
    db.close()
  })

  it('of an empty table is an empty page', async () => {
    const db = openDatabase(`file:${path.join(tmp, 'empty.db')}`)
    await migrate(db)
    expect((await listSites(db, pageRequest({}))).json).toBe('{"items":[],"next_cursor":null}')
    db.close()
  })
})
