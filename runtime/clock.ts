// Time in the one form the database stores: ISO-8601 UTC with milliseconds (string order = time order).
export function nowIso(): string {
  return new Date().toISOString()
}

export function isoPlus(iso: string, milliseconds: number): string {
  return new Date(Date.parse(iso) + milliseconds).toISOString()
}

/** A source of the current time. */
export interface Clock { now(): Date }

export const systemClock: Clock = { now: () => new Date() }

let retentionClock: Clock = systemClock

/**
 * "Now" for retention decisions: which completed backups are past their retention_until (backup_cleanup's
 * selection) and whether the 6-hourly cleanup is due. The system clock unless a test injects another with
 * useRetentionClock(); rows are still stamped with the system time (the engine's claims compare against it).
 */
export function retentionNow(): Date {
  return retentionClock.now()
}

/** Replaces the retention clock (tests); returns the function that puts the system clock back. */
export function useRetentionClock(clock: Clock): () => void {
  retentionClock = clock
  return () => { retentionClock = systemClock }
}
