// The runtime defaults the PRESSLUFT_* environment variables override (runtime/config.ts); hono.config.ts re-exports them.
export const defaults = {
  listenAddr: '127.0.0.1:8080',
  dataDir: './data',
  logLevel: 'info',
  maxConcurrentJobs: 4,
  jobTimeoutSeconds: 1800,
  pollIntervalMs: 2000,
  maxAttempts: 3,
  /** Wait before attempt 2, 3 and later of a retryable failure: 1, 5 and 15 minutes. */
  retryBackoffSeconds: [60, 300, 900],
  gateFreshnessMinutes: 60,
  nodeQueryTimeoutSeconds: 10,
  healthCheck: { timeoutSeconds: 10, retries: 1 },
  importLimits: { maxArchiveBytes: 5 * 1024 ** 3, maxUnpackedBytes: 20 * 1024 ** 3, maxEntries: 1_000_000 },
  acmeDirectoryUrl: 'https://acme-v02.api.letsencrypt.org/directory',
  wpCoreUrl: 'https://wordpress.org/latest.tar.gz',
  // env_update's update checks: '' = wordpress.org itself; else a base URL serving <base>/<api path>/index.json.
  wpUpdateSource: '',
  adminEmail: 'admin@pressluft.local',
  /** Per webhook delivery try: the receiver must answer within this many seconds. */
  webhookTimeoutSeconds: 10,
  /** Waits before webhook retries 2, 3, …: 10 s, 1 min, 5 min, 30 min, 2 h — six tries in all, then the delivery fails. */
  webhookRetryBackoffSeconds: [10, 60, 300, 1800, 7200],
  // Per job type overrides of the job timeout, in seconds.
  jobTimeoutOverrides: {} as Partial<Record<string, number>>,
}

export type RuntimeDefaults = typeof defaults
