// In-memory login throttle: 10 failed attempts per client IP per 15 minutes, then 429 until the window passes.
export class LoginThrottle {
  private failures = new Map<string, number[]>()

  constructor(private readonly maxFailures = 10, private readonly windowMs = 15 * 60 * 1000) {}

  isBlocked(ip: string, now = Date.now()): boolean {
    return this.recent(ip, now).length >= this.maxFailures
  }

  recordFailure(ip: string, now = Date.now()): void {
    const recent = this.recent(ip, now)
    recent.push(now)
    this.failures.set(ip, recent)
  }

  private recent(ip: string, now: number): number[] {
    const recent = (this.failures.get(ip) ?? []).filter((t) => now - t < this.windowMs)
    if (recent.length === 0) this.failures.delete(ip)
    return recent
  }
}
