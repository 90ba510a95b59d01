// How long a provider's 429 asks us to wait (runtime/providers/hetzner.ts, rateLimitWaitMs): the job engine delays the
// retry by at least that much.
import { describe, expect, it } from 'vitest'
import { rateLimitWaitMs } from '../../runtime/providers/hetzner.js'

const NOW = Date.parse('2026-11-30T12:00:00Z')
const wait = (headers: Record<string, string>) => rateLimitWaitMs(new Headers(headers), NOW)

describe('rate-limit wait of a 429', () => {
  it('reads Retry-After as delay-seconds or as an HTTP-date (a date in the past is no wait)', () => {
    expect(wait({ 'retry-after': '120' })).toBe(120_000)
    expect(wait({ 'retry-after': ' 0 ' })).toBe(0)
    expect(wait({ 'retry-after': 'Mon, 30 Nov 2026 12:05:00 GMT' })).toBe(300_000)
    expect(wait({ 'retry-after': 'Mon, 30 Nov 2026 11:00:00 GMT' })).toBe(0)
  })

  it("falls back to Hetzner's RateLimit-Reset (Unix seconds) when Retry-After is missing or unreadable", () => {
    const reset = String(NOW / 1000 + 90)
    expect(wait({ 'ratelimit-reset': reset })).toBe(90_000)
    expect(wait({ 'retry-after': 'soon', 'ratelimit-reset': reset })).toBe(90_000)
    expect(wait({ 'retry-after': '7', 'ratelimit-reset': reset })).toBe(7_000)
  })

  it('is undefined when the answer says nothing usable', () => {
    expect(wait({})).toBeUndefined()
    expect(wait({ 'retry-after': '-5' })).toBeUndefined()
    expect(wait({ 'ratelimit-reset': 'later' })).toBeUndefined()
  })
})
