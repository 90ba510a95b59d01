// The live event history of jobs (docs/architecture.md "Live job progress"): status changes from the queue's
// statusEvents, Ansible task progress from the project's callback plugin (ansible/callback_plugins/pressluft_progress.py)
// and the redacted output lines of the runner. Each event gets the job's next sequence number, goes at once to the
// listeners of GET /api/jobs/{id}/events, and is written to job_events in small batches so a late subscriber (or one
// after the job ended, or after a restart) replays the same history.
import type { Db } from '../store/db.js'
import type { Logger } from '../logging.js'
import type { JobStatusChange, JobStatusEvents } from './job-status-events.js'
import {
  insertJobEventStatements, lastProgressEvent, listJobEvents, maxJobEventSeq, pruneJobEvents, type JobEvent, type JobEventKind,
} from '../store/job-events.js'

export type { JobEvent, JobEventKind }

export const TERMINAL_STATUSES = new Set(['succeeded', 'failed', 'cancelled'])

/** What GET /api/jobs/{id} reports as `progress`: the current (or last) task, tasks done and the task count. */
export interface JobProgress { task: string | null; done: number; total: number }

/** One line of the callback plugin (see ansible/callback_plugins/pressluft_progress.py for the shapes). */
export type AnsibleProgressEvent =
  | { event: 'start'; total: number }
  | { event: 'task'; name: string; n: number; total: number; handler: boolean }
  | { event: 'task_end'; n: number; status: string }
  | { event: 'end'; n: number; total: number }

export interface JobEventHubOptions {
  /** Bytes of event data kept per job; output lines beyond it are dropped with one `truncated` event. */
  maxBytesPerJob?: number
  /** Finished jobs that keep their history; older histories are deleted. */
  keepFinishedJobs?: number
  flushIntervalMs?: number
  /** How long a finished job's history stays in memory after it was written. */
  retainMs?: number
  /** Prune the histories of old jobs after this many jobs finished. */
  pruneEvery?: number
}

const DEFAULTS = { maxBytesPerJob: 512 * 1024, keepFinishedJobs: 200, flushIntervalMs: 250, retainMs: 30_000, pruneEvery: 20 }
/** Task and status events are kept past the output budget, up to this multiple of it (a runaway loop of includes). */
const HARD_LIMIT_FACTOR = 2

interface JobRecord {
  chain: Promise<void>
  nextSeq: number
  events: JobEvent[]
  pending: JobEvent[]
  bytes: number
  truncated: boolean
  ended: boolean
  attempt: number | null
  task: string | null
  done: number
  total: number
  flushTimer?: NodeJS.Timeout
  dropTimer?: NodeJS.Timeout
}

type Listener = (event: JobEvent) => void

export class JobEventHub {
  private readonly records = new Map<string, JobRecord>()
  private readonly listeners = new Map<string, Set<Listener>>()
  private readonly options: typeof DEFAULTS
  private finishedSincePrune = 0
  private closed = false

  constructor(private readonly db: Db, private readonly log: Logger, statusEvents: JobStatusEvents, options: JobEventHubOptions = {}) {
    this.options = { ...DEFAULTS, ...options }
    statusEvents.subscribe((change) => this.status(change))
  }

  /** A job status change the queue committed (the start of an attempt resets the task counters). */
  private status(change: JobStatusChange): void {
    this.append(change.jobId, (record) => {
      if (change.status === 'running') { record.task = null; record.done = 0; record.total = 0 }
      const data: Record<string, unknown> = { status: change.status, error_code: change.errorCode }
      return [{ kind: 'status', data, at: change.at }]
    }, TERMINAL_STATUSES.has(change.status))
  }

  /** The runner starts attempt `attempt` of a job: its events carry the attempt number. */
  beginAttempt(jobId: string, attempt: number): void {
    this.append(jobId, (record) => { record.attempt = attempt; return [] })
  }

  /** One event of the callback plugin; `redact` is the attempt's redactor (task names may be templated). */
  ansible(jobId: string, event: AnsibleProgressEvent, redact: (text: string) => string): void {
    this.append(jobId, (record) => {
      const at = new Date().toISOString()
      const attempt = record.attempt
      switch (event.event) {
        case 'start':
          record.total = event.total; record.done = 0; record.task = null
          return [{ kind: 'progress', at, data: { task: null, done: 0, total: record.total, attempt } }]
        case 'task': {
          record.task = redact(String(event.name))
          record.total = Math.max(record.total, event.total)
          // A handler runs on notification: it is shown, but it is not one of the m tasks.
          if (!event.handler) record.done = Math.max(0, event.n - 1)
          return [{ kind: 'task', at, data: { task: record.task, n: event.n, done: record.done, total: record.total, handler: Boolean(event.handler), attempt } }]
        }
        case 'task_end':
          if (event.n > record.done && event.n <= record.total) record.done = event.n
          return [{ kind: 'progress', at, data: { task: record.task, done: record.done, total: record.total, result: String(event.status), attempt } }]
        case 'end':
          record.total = Math.max(record.total, event.total)
          return []
        default:
          return []
      }
    })
  }

  /** One redacted output line of the playbook. */
  output(jobId: string, line: string): void {
    this.append(jobId, (record) => [{ kind: 'output', at: new Date().toISOString(), data: { line, attempt: record.attempt } }])
  }

  /** Calls `listener` with every event appended from now on, until the returned function is called. */
  listen(jobId: string, listener: Listener): () => void {
    let set = this.listeners.get(jobId)
    if (!set) { set = new Set(); this.listeners.set(jobId, set) }
    set.add(listener)
    return () => {
      set!.delete(listener)
      if (!set!.size && this.listeners.get(jobId) === set) this.listeners.delete(jobId)
    }
  }

  /** Everything recorded for a job so far (the written history plus what is still in memory), in order. */
  async history(jobId: string, afterSeq = 0): Promise<JobEvent[]> {
    const inMemory = [...(this.records.get(jobId)?.events ?? [])]
    const stored = await listJobEvents(this.db, jobId, afterSeq)
    const bySeq = new Map<number, JobEvent>()
    for (const e of stored) bySeq.set(e.seq, e)
    for (const e of inMemory) if (e.seq > afterSeq) bySeq.set(e.seq, e)
    return [...bySeq.values()].sort((a, b) => a.seq - b.seq)
  }

  /** The job's current task progress, or its last one; null before its first playbook reported (or after pruning). */
  async progress(jobId: string): Promise<JobProgress | null> {
    const record = this.records.get(jobId)
    let live: JobEvent | undefined
    for (const e of record?.events ?? []) if (e.kind === 'task' || e.kind === 'progress') live = e
    const event = live ?? await lastProgressEvent(this.db, jobId)
    if (!event) return null
    return { task: (event.data.task as string | null) ?? null, done: Number(event.data.done ?? 0), total: Number(event.data.total ?? 0) }
  }

  /** Writes what is pending (shutdown, tests). */
  async flush(): Promise<void> {
    await Promise.all([...this.records.entries()].map(([jobId, record]) => record.chain.then(() => this.write(jobId, record))))
  }

  async close(): Promise<void> {
    this.closed = true
    await this.flush()
    for (const record of this.records.values()) { clearTimeout(record.flushTimer); clearTimeout(record.dropTimer) }
    this.records.clear()
  }

  private record(jobId: string): JobRecord {
    let record = this.records.get(jobId)
    if (!record) {
      const fresh: JobRecord = {
        chain: Promise.resolve(), nextSeq: 1, events: [], pending: [], bytes: 0, truncated: false, ended: false,
        attempt: null, task: null, done: 0, total: 0,
      }
      // The sequence continues what an earlier process (or an earlier, dropped record) wrote.
      fresh.chain = maxJobEventSeq(this.db, jobId).then((max) => { fresh.nextSeq = max + 1 }, (error) => {
        this.log.warn({ err: error, job_id: jobId }, 'could not read the job event sequence')
      })
      this.records.set(jobId, fresh)
      record = fresh
    }
    return record
  }

  /**
   * Appends the events `make` returns, in order, on the job's chain (so sequence numbers follow call order even while
   * the first one waits for the stored maximum); a terminal status writes at once and ends the record.
   */
  private append(jobId: string, make: (record: JobRecord) => Omit<JobEvent, 'seq'>[], terminal = false): void {
    if (this.closed) return
    const record = this.record(jobId)
    record.chain = record.chain.then(async () => {
      // Lines and tasks of a playbook still being stopped after its job was cancelled belong to no attempt any more.
      if (record.ended && !terminal) return
      for (const draft of make(record)) this.push(jobId, record, draft)
      if (terminal) {
        record.ended = true
        await this.write(jobId, record)
        await this.maybePrune()
        clearTimeout(record.dropTimer)
        record.dropTimer = setTimeout(() => { if (this.records.get(jobId) === record && !record.pending.length) this.records.delete(jobId) }, this.options.retainMs)
        record.dropTimer.unref?.()
      } else if (record.pending.length && !record.flushTimer) {
        record.flushTimer = setTimeout(() => {
          record.flushTimer = undefined
          record.chain = record.chain.then(() => this.write(jobId, record))
        }, this.options.flushIntervalMs)
        record.flushTimer.unref?.()
      }
    }).catch((error) => { this.log.warn({ err: error, job_id: jobId }, 'job event append failed') })
  }

  private push(jobId: string, record: JobRecord, draft: Omit<JobEvent, 'seq'>): void {
    const size = JSON.stringify(draft.data).length + 32
    if (record.bytes + size > this.options.maxBytesPerJob) {
      if (draft.kind === 'output') {
        if (record.truncated) return
        record.truncated = true
        draft = { kind: 'truncated', at: draft.at, data: { limit_bytes: this.options.maxBytesPerJob, attempt: record.attempt } }
      } else if (draft.kind !== 'status' && record.bytes + size > this.options.maxBytesPerJob * HARD_LIMIT_FACTOR) {
        return
      }
    }
    const event: JobEvent = { ...draft, seq: record.nextSeq++ }
    record.bytes += size
    record.events.push(event)
    record.pending.push(event)
    for (const listener of this.listeners.get(jobId) ?? []) {
      try { listener(event) } catch { /* a stream that broke is the stream's concern */ }
    }
  }

  private async write(jobId: string, record: JobRecord): Promise<void> {
    clearTimeout(record.flushTimer)
    record.flushTimer = undefined
    if (!record.pending.length) return
    const batch = record.pending
    record.pending = []
    try {
      await this.db.batch(insertJobEventStatements(jobId, batch), 'write')
    } catch (error) {
      // The events stay in memory for live subscribers; the stored history misses them.
      this.log.warn({ err: error, job_id: jobId, events: batch.length }, 'could not write job events')
    }
  }

  private async maybePrune(): Promise<void> {
    if (++this.finishedSincePrune < this.options.pruneEvery) return
    this.finishedSincePrune = 0
    try {
      const removed = await pruneJobEvents(this.db, this.options.keepFinishedJobs)
      if (removed) this.log.info({ removed }, 'pruned the event history of old jobs')
    } catch (error) {
      this.log.warn({ err: error }, 'could not prune job events')
    }
  }
}
