// Test helper: a webhook receiver on loopback that records every request (raw body and headers) and answers with
// scripted status codes, plus the signature check of docs/webhooks.md.
import http from 'node:http'
import crypto from 'node:crypto'
import type { AddressInfo } from 'node:net'

export interface ReceivedRequest { path: string; headers: http.IncomingHttpHeaders; body: string; receivedAt: number }

export interface Receiver {
  url: string
  received: ReceivedRequest[]
  /** Status codes to answer on a path, in order; when used up (or none were given) the answer is 200. */
  script(path: string, codes: number[]): void
  /** Never answer requests on this path (a receiver that hangs). */
  hang(path: string): void
  close(): Promise<void>
}

export async function startReceiver(): Promise<Receiver> {
  const received: ReceivedRequest[] = []
  const scripts = new Map<string, number[]>()
  const hanging = new Set<string>()
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (chunk: Buffer) => chunks.push(chunk))
    req.on('end', () => {
      const path = req.url ?? '/'
      received.push({ path, headers: req.headers, body: Buffer.concat(chunks).toString('utf8'), receivedAt: Date.now() })
      if (hanging.has(path)) return
      const code = scripts.get(path)?.shift() ?? 200
      res.writeHead(code, { 'content-type': 'text/plain' }).end(code < 300 ? 'ok' : 'not now')
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    received,
    script: (path, codes) => { scripts.set(path, [...codes]) },
    hang: (path) => { hanging.add(path) },
    close: () => new Promise((resolve) => { server.closeAllConnections(); server.close(() => resolve()) }),
  }
}

/**
 * The receiver-side check exactly as docs/webhooks.md shows it: HMAC-SHA256 of "<timestamp>.<raw body>" with the
 * secret, compared in constant time, and a timestamp older than the tolerance rejected (replay).
 */
export function verifyPressluftSignature(secret: string, rawBody: string, headers: Record<string, string | string[] | undefined>, toleranceSeconds = 300): boolean {
  const timestamp = String(headers['pressluft-timestamp'] ?? '')
  const signature = String(headers['pressluft-signature'] ?? '')
  if (!/^\d+$/.test(timestamp) || !signature.startsWith('v1=')) return false
  if (Math.abs(Date.now() / 1000 - Number(timestamp)) > toleranceSeconds) return false
  const expected = crypto.createHmac('sha256', secret).update(`${timestamp}.${rawBody}`).digest()
  const given = Buffer.from(signature.slice(3), 'hex')
  return given.length === expected.length && crypto.timingSafeEqual(given, expected)
}
