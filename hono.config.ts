// Manifest of the control plane: every mounted function module, the scheduled functions and the runtime defaults.
import type { FunctionModule } from './runtime/http/define-function.js'
import type { ScheduledFunction } from './runtime/scheduler/define-schedule.js'

import login from './functions/auth/login.js'
import logout from './functions/auth/logout.js'

export const functions: FunctionModule[] = [
  login,
  logout,
]

export const schedules: ScheduledFunction[] = []

export const defaults = {
  listenAddr: '127.0.0.1:8080',
  dataDir: './data',
  logLevel: 'info',
  maxConcurrentJobs: 4,
  jobTimeoutSeconds: 1800,
  pollIntervalMs: 2000,
  maxAttempts: 3,
  backoffMinutes: [1, 5, 15],
  gateFreshnessMinutes: 60,
  nodeQueryTimeoutSeconds: 10,
  healthCheck: { timeoutSeconds: 10, retries: 1 },
  importLimits: { maxArchiveBytes: 5 * 1024 ** 3, maxUnpackedBytes: 20 * 1024 ** 3, maxEntries: 1_000_000 },
  acmeDirectoryUrl: 'https://acme-v02.api.letsencrypt.org/directory',
  wpCoreUrl: 'https://wordpress.org/latest.tar.gz',
  adminEmail: 'admin@pressluft.local',
  // Per job type overrides of the job timeout, in seconds.
  jobTimeoutOverrides: {} as Partial<Record<string, number>>,
}

export type RuntimeDefaults = typeof defaults
