import { describe, it, expect } from 'vitest'
import { refusedReceiverAddress, webhookUrlProblem } from '../../runtime/webhooks/webhook-url.js'
import { guardedLookup, postWebhook } from '../../runtime/webhooks/post-webhook.js'
import { eventsOf, signature } from '../../runtime/webhooks/webhook-events.js'
import { startReceiver } from '../support/webhook-receiver.js'

function lookup(host: string, allowLoopback: boolean): Promise<{ error: (Error & { code?: string }) | null; address?: unknown }> {
  return new Promise((resolve) => {
    guardedLookup(allowLoopback)(host, { all: true }, ((error: Error | null, address: unknown) => resolve({ error: error as never, address })) as never)
  })
}

describe('webhook receiver addresses', () => {
  it.each([
    ['169.254.169.254', false], ['169.254.0.1', true], ['fe80::1', true], ['fd00:ec2::254', true], ['100.100.100.200', true],
    ['0.0.0.0', true], ['::', true], ['224.0.0.1', true], ['255.255.255.255', true], ['ff02::1', true], ['::ffff:169.254.169.254', true],
  ])('always refuses %s (loopback allowed: %s)', (address, allowLoopback) => {
    expect(refusedReceiverAddress(address, allowLoopback)).toMatch(/link-local, metadata, multicast or reserved/)
  })

  it('refuses loopback unless allowed, and accepts private and public addresses', () => {
    for (const address of ['127.0.0.1', '127.1.2.3', '::1', '::ffff:127.0.0.1']) {
      expect(refusedReceiverAddress(address, false)).toContain('PRESSLUFT_WEBHOOK_ALLOW_LOOPBACK')
      expect(refusedReceiverAddress(address, true)).toBeNull()
    }
    for (const address of ['10.0.0.5', '192.168.1.1', '172.16.0.1', '100.64.0.1', '198.18.0.10', 'fd12::1', '203.0.113.9', '2001:db8::1']) {
      expect(refusedReceiverAddress(address, false)).toBeNull()
    }
  })

  it('judges URLs: scheme, credentials, fragment, literal addresses and local names', () => {
    expect(webhookUrlProblem('https://hooks.example.com/x?y=1', false)).toBeNull()
    expect(webhookUrlProblem('http://[::ffff:a9fe:a9fe]/x', false)).toMatch(/169\.254\.169\.254/)
    expect(webhookUrlProblem('gopher://example.com/', false)).toMatch(/http or https/)
    expect(webhookUrlProblem('https://a:b@example.com/', false)).toMatch(/credentials/)
    expect(webhookUrlProblem('https://example.com/#x', false)).toMatch(/fragment/)
    expect(webhookUrlProblem('http://LOCALHOST:8080/', false)).toMatch(/this host/)
    expect(webhookUrlProblem('http://localhost:8080/', true)).toBeNull()
  })

  it('checks the addresses a name resolves to when the socket looks it up, so a name cannot lead to a refused address', async () => {
    const refused = await lookup('localhost', false)
    expect(refused.error?.code).toBe('WEBHOOK_ADDRESS_REFUSED')
    expect(refused.error?.message).toContain('loopback')
    const allowed = await lookup('localhost', true)
    expect(allowed.error).toBeNull()
    expect(JSON.stringify(allowed.address)).toMatch(/127\.0\.0\.1|::1/)
  })

  it('posts with a hard timeout, does not follow redirects, and refuses before connecting', async () => {
    const receiver = await startReceiver()
    try {
      receiver.script('/moved', [302])
      const moved = await postWebhook(`${receiver.url}/moved`, '{}', {}, { timeoutMs: 2000, allowLoopback: true })
      expect(moved).toMatchObject({ responseCode: 302, error: 'redirects are not followed' })
      receiver.hang('/slow')
      const slow = await postWebhook(`${receiver.url}/slow`, '{}', {}, { timeoutMs: 300, allowLoopback: true })
      expect(slow.responseCode).toBeNull()
      expect(slow.error).toContain('no complete answer within 300 ms')
      expect(slow.durationMs).toBeGreaterThanOrEqual(290)
      const before = receiver.received.length
      const refused = await postWebhook(`${receiver.url}/x`, '{}', {}, { timeoutMs: 2000, allowLoopback: false })
      expect(refused).toMatchObject({ responseCode: null, durationMs: 0 })
      expect(refused.error).toContain('loopback')
      expect(receiver.received.length).toBe(before)
    } finally {
      await receiver.close()
    }
  })
})

describe('webhook events and signature', () => {
  const change = (jobType: string, status: 'queued' | 'running' | 'succeeded' | 'failed' | 'cancelled') => ({ jobId: 'j', jobType, status, errorCode: null, at: '2026-01-01T00:00:00.000Z' })
  it('raises job events for ended jobs only, and backup events for backup_create', () => {
    expect(eventsOf(change('cache_purge', 'running'))).toEqual([])
    expect(eventsOf(change('cache_purge', 'queued'))).toEqual([])
    expect(eventsOf(change('cache_purge', 'failed'))).toEqual(['job.failed'])
    expect(eventsOf(change('backup_create', 'succeeded'))).toEqual(['job.succeeded', 'backup.completed'])
    expect(eventsOf(change('backup_create', 'cancelled'))).toEqual(['job.cancelled', 'backup.failed'])
  })

  it('matches a known HMAC-SHA256 value over "<timestamp>.<body>"', () => {
    // Computed independently: printf '%s' '1700000000.{"a":1}' | openssl dgst -sha256 -hmac 'whsec_test'
    expect(signature('whsec_test', 1700000000, '{"a":1}')).toBe('38877139021993b830af32feea6e18a8da83eb2f6e49ee50bd9e4cf4ca4d3789')
  })
})
