// GET /api/metrics: counts straight from the database at request time (no cache).
import type { Db } from '../store/db.js'
import { countMetrics, type MetricCounts } from '../store/metrics.js'

export class MetricsService {
  constructor(private readonly db: Db) {}

  async current(): Promise<MetricCounts> {
    return countMetrics(this.db)
  }
}
