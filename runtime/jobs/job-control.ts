// What the API needs from the job engine: wake the scheduler after an enqueue, and stop a running job's playbook.
export interface JobControl {
  /** Called after a transaction that enqueued jobs committed: claim now instead of at the next poll. */
  wake(): void
  /** Signals the runner of a running job to stop (SIGTERM to its process group, 15 s grace, SIGKILL). */
  abortRunning(jobId: string): void
}
