// SQL for the settings key/value table (absent row = unset).
import type { Executor } from './db.js'
import { queryAll, run } from './db.js'

export async function readSettingRows(ex: Executor): Promise<Map<string, string>> {
  const rows = await queryAll<{ key: string; value: string }>(ex, 'SELECT key, value FROM settings')
  return new Map(rows.map((row) => [row.key, row.value]))
}

export async function upsertSetting(ex: Executor, key: string, value: string, now: string): Promise<void> {
  await run(ex, `INSERT INTO settings (key, value, updated_at) VALUES (?, ?, ?)
    ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`, [key, value, now])
}

export async function deleteSetting(ex: Executor, key: string): Promise<void> {
  await run(ex, 'DELETE FROM settings WHERE key = ?', [key])
}
