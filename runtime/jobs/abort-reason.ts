// Why a runner's AbortController fired: an admin cancel, the control plane's shutdown, or stale-run recovery.
export class AbortReason extends Error {
  constructor(readonly kind: 'cancel' | 'shutdown' | 'stale') {
    super(`job aborted: ${kind}`)
  }
}
