// Manifest of the control plane: every mounted function module and the scheduled functions (plus the runtime defaults, re-exported).
import type { FunctionModule } from './runtime/http/define-function.js'
import type { ScheduledFunction } from './runtime/scheduler/define-schedule.js'

import login from './functions/auth/login.js'
import logout from './functions/auth/logout.js'
import listJobs from './functions/jobs/list-jobs.js'
import getJob from './functions/jobs/get-job.js'
import cancelJob from './functions/jobs/cancel-job.js'
import streamJobEvents from './functions/jobs/stream-job-events.js'
import enqueueBackupCleanup from './functions/scheduled/enqueue-backup-cleanup.js'
import enqueueDriftChecks from './functions/scheduled/enqueue-drift-checks.js'
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
import setEnvironmentBasicAuth from './functions/environments/set-environment-basic-auth.js'
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
import createWebhook from './functions/webhooks/create-webhook.js'
import listWebhooks from './functions/webhooks/list-webhooks.js'
import deleteWebhook from './functions/webhooks/delete-webhook.js'
import listWebhookDeliveries from './functions/webhooks/list-webhook-deliveries.js'
import createApiToken from './functions/tokens/create-token.js'
import listApiTokens from './functions/tokens/list-tokens.js'
import revokeApiToken from './functions/tokens/revoke-token.js'

export const functions: FunctionModule[] = [
  login,
  logout,
  listSites, createSite, getSite, importSite, resetSite,
  listEnvironments, createEnvironment, getEnvironment, checkEnvironmentDrift, deployEnvironment, updateEnvironment,
  restoreEnvironment, promoteEnvironment, toggleEnvironmentCache, setEnvironmentBasicAuth, purgeEnvironmentCache, createMagicLogin, resetEnvironment,
  listReleases, rollbackEnvironment,
  listBackups, createBackup, listDomains, addDomain, deleteDomain, getMetrics, createNode, listNodes, getNode,
  getSettings, updateSettings,
  listJobs, getJob, cancelJob, streamJobEvents,
  createApiToken, listApiTokens, revokeApiToken,
  createWebhook, listWebhooks, deleteWebhook, listWebhookDeliveries,
]

export const schedules: ScheduledFunction[] = [
  enqueueBackupCleanup,
  enqueueDriftChecks,
]

// The runtime defaults live in runtime/config-defaults.ts so that loading the configuration does not load every function.
export { defaults, type RuntimeDefaults } from './runtime/config-defaults.js'
