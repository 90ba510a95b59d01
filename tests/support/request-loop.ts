// A bounded request loop against one site on a lab node: at most `ratePerSecond` (≤ 20) requests per second, a hard
// stop after `maxSeconds`, each request with its own query string so the page cache cannot answer for PHP.
import http from 'node:http'

export interface LoopSample { startedMs: number; status: number; latencyMs: number }

export interface LoopReport {
  samples: LoopSample[]
  total: number
  serverErrors: number
  /** Requests without an HTTP answer (connection refused/reset, 10 s timeout). */
  noAnswer: number
  maxLatencyMs: number
  /**
   * Longest span in which the site gave no good answer: from the start of a request that failed or took over 1 s to
   * the start of the next request that got a 2xx/3xx within 1 s.
   */
  unavailableMs: number
}

export interface RequestLoop { stop(): Promise<LoopReport> }

function once(ip: string, host: string, path: string): Promise<number> {
  return new Promise((resolve) => {
    const req = http.request({ host: ip, port: 80, path, headers: { host }, timeout: 10_000, agent: false }, (res) => {
      res.resume()
      res.on('end', () => resolve(res.statusCode ?? 0))
      res.on('error', () => resolve(0))
    })
    req.on('error', () => resolve(0))
    req.on('timeout', () => req.destroy())
    req.end()
  })
}

/**
 * `alternate`: every second request is the plain front page (served by the page cache when it holds it), the others
 * carry a unique query string and always reach PHP and the database.
 */
export function startRequestLoop(options: { ip: string; host: string; ratePerSecond?: number; maxSeconds?: number; alternate?: boolean }): RequestLoop {
  if (!/^198\.1[89]\./.test(options.ip)) throw new Error(`request loop only targets lab addresses, not ${options.ip}`)
  const rate = Math.min(options.ratePerSecond ?? 20, 20)
  const maxMs = (options.maxSeconds ?? 600) * 1000
  const started = Date.now()
  const samples: LoopSample[] = []
  const inFlight = new Set<Promise<void>>()
  let n = 0
  let stopped = false
  // A token per loop, so no request of this loop can be answered from an earlier loop's cached pages.
  const token = Math.random().toString(36).slice(2, 10)
  const timer = setInterval(() => {
    if (stopped || Date.now() - started > maxMs) {
      clearInterval(timer)
      return
    }
    const t0 = Date.now()
    const i = n++
    const target = options.alternate && i % 2 === 1 ? '/' : `/?pressluft_loop=${token}-${i}`
    const p = once(options.ip, options.host, target).then((status) => {
      samples.push({ startedMs: t0 - started, status, latencyMs: Date.now() - t0 })
    })
    inFlight.add(p)
    void p.finally(() => inFlight.delete(p))
  }, 1000 / rate)

  return {
    async stop() {
      stopped = true
      clearInterval(timer)
      await Promise.all([...inFlight])
      samples.sort((a, b) => a.startedMs - b.startedMs)
      const good = (s: LoopSample) => s.status >= 200 && s.status < 400 && s.latencyMs <= 1000
      let unavailableMs = 0
      let badSince: number | null = null
      for (const s of samples) {
        if (!good(s)) badSince ??= s.startedMs
        else if (badSince !== null) {
          unavailableMs = Math.max(unavailableMs, s.startedMs - badSince)
          badSince = null
        }
      }
      if (badSince !== null && samples.length) unavailableMs = Math.max(unavailableMs, samples[samples.length - 1].startedMs - badSince)
      return {
        samples, total: samples.length,
        serverErrors: samples.filter((s) => s.status >= 500).length,
        noAnswer: samples.filter((s) => s.status === 0).length,
        maxLatencyMs: Math.max(0, ...samples.map((s) => s.latencyMs)),
        unavailableMs,
      }
    },
  }
}
