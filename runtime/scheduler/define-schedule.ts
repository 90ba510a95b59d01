// The shape of a scheduled function: evaluated on every scheduler tick, it decides from the database whether to enqueue.
import type { Services } from '../services.js'

export interface ScheduledFunction {
  name: string
  /** Returns the ids of jobs it enqueued (empty when nothing was due). */
  run(services: Services, now: Date): Promise<string[]>
}

export function defineSchedule(schedule: ScheduledFunction): ScheduledFunction {
  return schedule
}
