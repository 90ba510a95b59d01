// In-process notice of every job status change the queue wrote: live progress streams and webhook deliveries listen here.
// Only changes that were committed are announced (the queue emits after its batch applied), so a listener never sees a
// status the database does not hold.
import { EventEmitter } from 'node:events'

export type JobStatus = 'queued' | 'running' | 'succeeded' | 'failed' | 'cancelled'

export interface JobStatusChange {
  jobId: string
  jobType: string
  status: JobStatus
  errorCode: string | null
  at: string
}

export class JobStatusEvents {
  private readonly emitter = new EventEmitter()

  constructor() {
    // Every open progress stream is one listener; the default warning at 10 would be noise, not a leak.
    this.emitter.setMaxListeners(0)
  }

  emit(change: JobStatusChange): void {
    this.emitter.emit('change', change)
  }

  /** Returns the function that removes the listener. A listener that throws is the listener's bug, not the queue's. */
  subscribe(listener: (change: JobStatusChange) => void): () => void {
    const safe = (change: JobStatusChange) => {
      try { listener(change) } catch { /* a broken listener must not fail the job's completion */ }
    }
    this.emitter.on('change', safe)
    return () => { this.emitter.off('change', safe) }
  }
}
