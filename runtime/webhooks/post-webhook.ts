// One HTTP POST of a webhook delivery: no redirects, a hard timeout, and the receiver's address checked on the address
// the socket actually connects to (the custom lookup), so DNS cannot swap a checked name for a refused address.
import http from 'node:http'
import https from 'node:https'
import dns from 'node:dns'
import type { LookupFunction } from 'node:net'
import { refusedReceiverAddress, webhookUrlProblem } from './webhook-url.js'

export interface PostOptions { timeoutMs: number; allowLoopback: boolean; signal?: AbortSignal }
export interface PostResult { responseCode: number | null; error: string | null; durationMs: number }

const ERROR_LIMIT = 500

/** dns.lookup that fails when any address of the name is refused; the socket connects to what it returns. */
export function guardedLookup(allowLoopback: boolean): LookupFunction {
  return (hostname, options, callback) => {
    dns.lookup(hostname, { ...options, all: true }, (error, addresses) => {
      if (error) return (callback as (e: Error) => void)(error)
      const list = addresses as unknown as dns.LookupAddress[]
      for (const entry of list) {
        const problem = refusedReceiverAddress(entry.address, allowLoopback)
        if (problem) return (callback as (e: Error) => void)(Object.assign(new Error(`${hostname} resolves to a refused address: ${problem}`), { code: 'WEBHOOK_ADDRESS_REFUSED' }))
      }
      if (list.length === 0) return (callback as (e: Error) => void)(Object.assign(new Error(`${hostname} has no address`), { code: 'ENOTFOUND' }))
      if ((options as { all?: boolean }).all) return (callback as (e: null, a: dns.LookupAddress[]) => void)(null, list)
      return callback(null, list[0].address, list[0].family)
    })
  }
}

function describe(error: unknown): string {
  const err = error as { code?: string; message?: string }
  const text = err.code && !String(err.message).includes(err.code) ? `${err.code}: ${err.message}` : String(err.message ?? error)
  return text.slice(0, ERROR_LIMIT)
}

/** Sends the body; resolves (never rejects) with the response code or the reason there is none. */
export function postWebhook(url: string, body: string, headers: Record<string, string>, options: PostOptions): Promise<PostResult> {
  const started = performance.now()
  const elapsed = () => Math.round(performance.now() - started)
  const problem = webhookUrlProblem(url, options.allowLoopback)
  if (problem) return Promise.resolve({ responseCode: null, error: `refused: ${problem}`, durationMs: 0 })
  const target = new URL(url)
  const client = target.protocol === 'https:' ? https : http
  return new Promise((resolve) => {
    let settled = false
    const finish = (result: Omit<PostResult, 'durationMs'>) => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      options.signal?.removeEventListener('abort', onAbort)
      resolve({ ...result, durationMs: elapsed() })
    }
    const req = client.request(target, {
      method: 'POST',
      headers: { ...headers, 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)) },
      lookup: guardedLookup(options.allowLoopback),
    }, (res) => {
      const code = res.statusCode ?? null
      // The answer's body is not kept; it is read only to let the connection finish (bounded by the same timeout).
      res.on('data', () => {})
      res.on('end', () => finish({ responseCode: code, error: code !== null && code >= 300 && code < 400 ? 'redirects are not followed' : null }))
      res.on('error', (error) => finish({ responseCode: code, error: describe(error) }))
      res.on('close', () => finish({ responseCode: code, error: 'the answer was cut off' }))
    })
    const timer = setTimeout(() => req.destroy(Object.assign(new Error(`no complete answer within ${options.timeoutMs} ms`), { code: 'TIMEOUT' })), options.timeoutMs)
    const onAbort = () => req.destroy(Object.assign(new Error('the control plane is shutting down'), { code: 'ABORTED' }))
    options.signal?.addEventListener('abort', onAbort, { once: true })
    req.on('error', (error) => finish({ responseCode: null, error: describe(error) }))
    req.end(body)
  })
}
