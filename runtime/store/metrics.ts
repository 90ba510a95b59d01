// SQL for GET /api/metrics: plain counts at request time.
import type { Executor } from './db.js'
import { queryOne } from './db.js'

export interface MetricCounts { jobs_running: number; jobs_queued: number; nodes_active: number; sites_total: number }

export async function countMetrics(ex: Executor): Promise<MetricCounts> {
  const row = await queryOne<MetricCounts>(ex, `SELECT
    (SELECT COUNT(*) FROM jobs WHERE status = 'running') AS jobs_running,
    (SELECT COUNT(*) FROM jobs WHERE status = 'queued') AS jobs_queued,
    (SELECT COUNT(*) FROM nodes WHERE status = 'active') AS nodes_active,
    (SELECT COUNT(*) FROM sites) AS sites_total`)
  return row!
}
