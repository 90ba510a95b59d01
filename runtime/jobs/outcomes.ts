// Job error codes as data: the ansible-playbook exit-code table, PRESSLUFT_ERROR markers, retry classes and backoff
// (docs/architecture.md "Outcomes, retries and error codes").

export type ErrorClass = 'retryable' | 'precondition' | 'non_retryable'

/** Every job error code the API can report, with its class: retryable, precondition (nothing changed on the node) or not. */
export const JOB_ERROR_CLASSES = {
  ANSIBLE_PLAY_ERROR: 'retryable',
  ANSIBLE_HOST_FAILED: 'retryable',
  ANSIBLE_HOST_UNREACHABLE: 'retryable',
  ANSIBLE_SYNTAX_ERROR: 'non_retryable',
  ANSIBLE_UNEXPECTED_ERROR: 'non_retryable',
  ANSIBLE_UNKNOWN_EXIT: 'non_retryable',
  ANSIBLE_TIMEOUT: 'retryable',
  JOB_TIMEOUT: 'non_retryable',
  WORKER_LOST: 'retryable',
  JOB_CANCELLED: 'non_retryable',
  INTERNAL_ERROR: 'non_retryable',
  INVALID_PLAYBOOK_RESULT: 'non_retryable',
  NODE_NOT_ACTIVE: 'precondition',
  SITE_NOT_ACTIVE: 'precondition',
  PRE_OPERATION_BACKUP_FAILED: 'precondition',
  DRIFT_GATE_UNMET: 'precondition',
  BACKUP_GATE_UNMET: 'precondition',
  BACKUP_STORAGE_NOT_CONFIGURED: 'precondition',
  BACKUP_CHECKSUM_MISMATCH: 'precondition',
  // The backup storage refused the configured key or bucket: only a settings change helps, so no retry.
  BACKUP_STORAGE_REJECTED: 'non_retryable',
  IMPORT_ARCHIVE_INVALID: 'precondition',
  IMPORT_DOWNLOAD_FAILED: 'retryable',
  DNS_MISMATCH: 'precondition',
  TLS_ISSUANCE_FAILED: 'retryable',
  PREVIEW_CERT_MISSING: 'precondition',
  // env_update runs WordPress's own upgraders through the node helper (no WP-CLI, so no WP_CLI_UNAVAILABLE). An
  // upgrader failure happens in the new release before the switch and before the database upgrade: the live site is
  // untouched (so the environment returns to active), and a retry would fail the same way.
  UPDATE_FAILED: 'precondition',
  TABLE_PREFIX_MISMATCH: 'precondition',
  // The rollback target was pruned from the node (or never completed): checked before anything is switched.
  RELEASE_NOT_ON_NODE: 'precondition',
  HEALTH_CHECK_FAILED: 'non_retryable',
  PROVIDER_NOT_CONFIGURED: 'precondition',
  PROVIDER_AUTH_FAILED: 'non_retryable',
  PROVIDER_UNAVAILABLE: 'retryable',
  PROVIDER_NOT_READY: 'retryable',
  PROVIDER_SSH_KEY_REGISTRATION_FAILED: 'non_retryable',
  PROVIDER_SERVER_CREATE_FAILED: 'non_retryable',
  PROVIDER_ACTION_FAILED: 'non_retryable',
} as const satisfies Record<string, ErrorClass>

export type JobErrorCode = keyof typeof JOB_ERROR_CLASSES

export function isJobErrorCode(value: string): value is JobErrorCode {
  return Object.prototype.hasOwnProperty.call(JOB_ERROR_CLASSES, value)
}

/** The codes whose class promises that the failed job left the node as it found it. */
export const NODE_UNCHANGED_CODES: readonly JobErrorCode[] = (Object.keys(JOB_ERROR_CLASSES) as JobErrorCode[])
  .filter((code) => JOB_ERROR_CLASSES[code] === 'precondition')

export function errorClass(code: JobErrorCode): ErrorClass {
  return JOB_ERROR_CLASSES[code]
}

/** How an ansible-playbook process ended, as the runner observed it. */
export interface PlaybookExit {
  exitCode: number | null
  signal: string | null
  /** True when the runner killed it because the job timeout expired. */
  timedOut: boolean
  /** Combined stdout/stderr (the tail is enough: markers and UNREACHABLE! are searched in it). */
  output: string
}

/** The exit-code table; a PRESSLUFT_ERROR marker replaces it on any non-zero exit. */
export function classifyPlaybookExit(exit: PlaybookExit): JobErrorCode | null {
  if (exit.timedOut) return 'ANSIBLE_TIMEOUT'
  if (exit.exitCode === 0) return null
  const marker = lastMarker(exit.output)
  if (marker) return marker
  switch (exit.exitCode) {
    case 1: return 'ANSIBLE_PLAY_ERROR'
    case 2: case 8: return 'ANSIBLE_HOST_FAILED'
    case 4: return /UNREACHABLE!/.test(exit.output) ? 'ANSIBLE_HOST_UNREACHABLE' : 'ANSIBLE_SYNTAX_ERROR'
    case 5: return 'ANSIBLE_SYNTAX_ERROR'
    case 250: return 'ANSIBLE_UNEXPECTED_ERROR'
    default: return 'ANSIBLE_UNKNOWN_EXIT'
  }
}

const MARKER_RE = /PRESSLUFT_ERROR=([A-Z][A-Z0-9_]*)/g

/** The last known PRESSLUFT_ERROR=<CODE> in the output; unknown codes are ignored (they cannot be classified). */
export function lastMarker(output: string): JobErrorCode | null {
  let found: JobErrorCode | null = null
  for (const match of output.matchAll(MARKER_RE)) {
    if (isJobErrorCode(match[1])) found = match[1]
  }
  return found
}

/**
 * Backoff before the next attempt: by default 1 min after attempt 1, 5 after attempt 2, 15 after later attempts
 * (config.backoffSeconds, PRESSLUFT_RETRY_BACKOFF_SECONDS).
 */
export function backoffMs(attemptCount: number, backoffSeconds: number[]): number {
  const index = Math.min(Math.max(attemptCount, 1), backoffSeconds.length) - 1
  return backoffSeconds[index] * 1000
}

export type FailureDecision =
  | { status: 'queued'; runAfterMs: number }
  | { status: 'failed'; precondition: boolean }

/**
 * The longest a provider's rate-limit answer may push a retry out: a wrong or hostile header must not park a job for
 * days; beyond an hour the job backoff's own later steps take over.
 */
export const MAX_PROVIDER_WAIT_MS = 60 * 60 * 1000

/**
 * Requeue with backoff while attempts remain and the code is retryable; otherwise a final failure. `notBeforeMs` (a
 * provider's rate-limit wait) delays the retry beyond the backoff, by at most MAX_PROVIDER_WAIT_MS.
 */
export function decideFailure(code: JobErrorCode, attemptCount: number, maxAttempts: number, backoffSeconds: number[], notBeforeMs = 0): FailureDecision {
  const cls = errorClass(code)
  if (cls === 'retryable' && attemptCount < maxAttempts) {
    return { status: 'queued', runAfterMs: Math.max(backoffMs(attemptCount, backoffSeconds), Math.min(notBeforeMs, MAX_PROVIDER_WAIT_MS)) }
  }
  return { status: 'failed', precondition: cls === 'precondition' }
}
