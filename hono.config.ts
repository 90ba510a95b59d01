// Manifest of the control plane: every mounted function module, the scheduled functions and the runtime defaults.
import type { FunctionModule } from './runtime/http/define-function.js'
import type { ScheduledFunction } from './runtime/scheduler/define-schedule.js'

import login from './functions/auth/login.js'
import logout from './functions/auth/logout.js'
import listJobs from './functions/jobs/list-jobs.js'
import getJob from './functions/jobs/get-job.js'
import cancelJob from './functions/jobs/cancel-job.js'
import enqueueBackupCleanup from './functions/scheduled/enqueue-backup-cleanup.js'
import enqueueDriftChecks from './functions/scheduled/enqueue-drift-checks.js'
export { default as jobRunner } from './functions/jobs/run-job.js'
import listSites from './functions/sites/list-sites.js'
import createSite from './functions/sites/create-site.js'
import getSite from './functions/sites/get-site.js'
import importSite from './functions/sites/import-site.js'
import resetSite from './functions/sites/reset-site.js'
import listEnvironments from './functions/environments/list-environments.js'
import createEnvironment from './functions/environments/create-environment.js'
import getEnvironment from './functions/environments/get-environment.js'
import checkEnvironmentDrift from './functions/environments/check-environment-drift.js'
import deployEnvironment from './functions/environments/deploy-environment.js'
import updateEnvironment from './functions/environments/update-environment.js'
import restoreEnvironment from './functions/environments/restore-environment.js'
import promoteEnvironment from './functions/environments/promote-environment.js'
import toggleEnvironmentCache from './functions/environments/toggle-environment-cache.js'
import purgeEnvironmentCache from './functions/environments/purge-environment-cache.js'
import createMagicLogin from './functions/environments/create-magic-login.js'
import resetEnvironment from './functions/environments/reset-environment.js'
import listReleases from './functions/environments/list-releases.js'
import rollbackEnvironment from './functions/environments/rollback-environment.js'
import listBackups from './functions/backups/list-backups.js'
import createBackup from './functions/backups/create-backup.js'
import listDomains from './functions/domains/list-domains.js'
import addDomain from './functions/domains/add-domain.js'
import deleteDomain from './functions/domains/delete-domain.js'
import getMetrics from './functions/metrics/get-metrics.js'
import createNode from './functions/nodes/create-node.js'
import listNodes from './functions/nodes/list-nodes.js'
import getNode from './functions/nodes/get-node.js'
import getSettings from './functions/settings/get-settings.js'
import updateSettings from './functions/settings/update-settings.js'

export const functions: FunctionModule[] = [
  login,
  logout,
  listSites, createSite, getSite, importSite, resetSite,
  listEnvironments, createEnvironment, getEnvironment, checkEnvironmentDrift, deployEnvironment, updateEnvironment,
  restoreEnvironment, promoteEnvironment, toggleEnvironmentCache, purgeEnvironmentCache, createMagicLogin, resetEnvironment,
  listReleases, rollbackEnvironment,
  listBackups, createBackup, listDomains, addDomain, deleteDomain, getMetrics, createNode, listNodes, getNode,
  getSettings, updateSettings,
  listJobs, getJob, cancelJob,
]

export const schedules: ScheduledFunction[] = [
  enqueueBackupCleanup,
  enqueueDriftChecks,
]

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
  // env_update's update checks: '' = wordpress.org itself; else a base URL serving <base>/<api path>/index.json.
  wpUpdateSource: '',
  adminEmail: 'admin@pressluft.local',
  // Per job type overrides of the job timeout, in seconds.
  jobTimeoutOverrides: {} as Partial<Record<string, number>>,
}

export type RuntimeDefaults = typeof defaults
