// SQL for drift_checks (read side of the API: the promotion drift gate).
import type { Executor } from './db.js'
import { queryOne } from './db.js'
import type { DriftStatus, PromotionPreset } from '../contracts/enums.js'

export interface DriftCheckRow {
  id: string; environment_id: string; kind: 'baseline' | 'check'; promotion_preset: PromotionPreset; status: DriftStatus
  db_checksums_json: string | null; file_checksums_json: string | null; checked_at: string
}

/** The newest `check` row of an environment; baselines are not checks and never satisfy the gate. */
export async function findLatestDriftCheck(ex: Executor, environmentId: string): Promise<DriftCheckRow | undefined> {
  return queryOne<DriftCheckRow>(ex, `SELECT * FROM drift_checks WHERE environment_id = ? AND kind = 'check'
    ORDER BY checked_at DESC, id DESC LIMIT 1`, [environmentId])
}
