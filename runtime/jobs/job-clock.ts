// Timestamps for the engine's job writes: ISO-8601 like nowIso(), but strictly increasing within the process.
// Effect statements are guarded by "the job row has the updated_at this write gave it", which needs unique values.
let last = 0

export function jobClockIso(nowMs: number = Date.now()): string {
  last = Math.max(nowMs, last + 1)
  return new Date(last).toISOString()
}
