// Test helper: reads a Server-Sent Events response (GET /api/jobs/{id}/events) until the server closes it.
export interface SseEvent { event: string; id: string | null; data: Record<string, unknown> }

export interface SseRead {
  events: SseEvent[]
  /** When each event arrived (ms since the epoch), in the order of `events`. */
  arrivals: number[]
  /** True when the server ended the stream (not the reader's timeout). */
  closedByServer: boolean
}

function parseBlock(block: string): SseEvent | null {
  let event = 'message'
  let id: string | null = null
  const data: string[] = []
  for (const line of block.split('\n')) {
    if (line.startsWith(':')) continue // comment (keepalive)
    const colon = line.indexOf(':')
    const field = colon === -1 ? line : line.slice(0, colon)
    const value = colon === -1 ? '' : line.slice(colon + 1).replace(/^ /, '')
    if (field === 'event') event = value
    else if (field === 'id') id = value
    else if (field === 'data') data.push(value)
  }
  if (!data.length) return null
  return { event, id, data: JSON.parse(data.join('\n')) as Record<string, unknown> }
}

/**
 * Reads the whole stream; `onEvent` sees each event as it arrives. Gives up (and cancels) after `timeoutMs`, or when
 * `stop` aborts; `closedByServer` then is false.
 */
export async function readSse(res: Response, timeoutMs: number, onEvent?: (event: SseEvent) => void, stop?: AbortSignal): Promise<SseRead> {
  if (!res.body) throw new Error('response without a body')
  const reader = res.body.getReader()
  const decoder = new TextDecoder()
  const events: SseEvent[] = []
  const arrivals: number[] = []
  let buffer = ''
  let timedOut = false
  const giveUp = () => { timedOut = true; void reader.cancel() }
  const timer = setTimeout(giveUp, timeoutMs)
  stop?.addEventListener('abort', giveUp, { once: true })
  try {
    for (;;) {
      const { done, value } = await reader.read()
      if (done) break
      buffer += decoder.decode(value, { stream: true })
      let split: number
      while ((split = buffer.indexOf('\n\n')) !== -1) {
        const parsed = parseBlock(buffer.slice(0, split))
        buffer = buffer.slice(split + 2)
        if (parsed) { events.push(parsed); arrivals.push(Date.now()); onEvent?.(parsed) }
      }
    }
  } finally {
    clearTimeout(timer)
    stop?.removeEventListener('abort', giveUp)
  }
  return { events, arrivals, closedByServer: !timedOut }
}

/** File in the e2e run's data dir with the live event stream of node1's provision, as the global setup read it. */
export const PROVISION_EVENTS_FILE = 'provision-events.json'
