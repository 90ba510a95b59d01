// The runtime services handed to every function: built once at start-up (and in tests) from config, database and secrets.
import type { Config } from './config.js'
import type { Db } from './store/db.js'
import type { Logger } from './logging.js'
import type { SecretStore } from './secrets/secret-store.js'
import type { JobControl } from './jobs/job-control.js'
import { AuthService } from './auth/auth-service.js'
import { JobService } from './jobs/job-service.js'
import { JobQueue } from './jobs/job-queue.js'
import type { ScryptParams } from './auth/passwords.js'
import { SettingsService } from './settings/settings-service.js'
import { SiteService } from './sites/site-service.js'
import { EnvironmentService } from './environments/environment-service.js'
import { MagicLoginService } from './environments/magic-login-service.js'
import { ReleaseService } from './environments/release-service.js'
import { BackupService } from './backups/backup-service.js'
import { DomainService } from './domains/domain-service.js'
import { NodeService } from './nodes/node-service.js'
import { MetricsService } from './metrics/metrics-service.js'
import { JobEventHub } from './jobs/job-events.js'
import { WebhookService } from './webhooks/webhook-service.js'
import { WebhookDeliveries } from './webhooks/webhook-deliveries.js'

export interface Services {
  config: Config
  db: Db
  logger: Logger
  secrets: SecretStore
  auth: AuthService
  jobControl: JobControl
  /** The one job queue: the API's cancel and the scheduler's claims and completions go through it. */
  jobQueue: JobQueue
  jobs: JobService
  /** Live progress and event history of jobs (GET /api/jobs/{id}/events, runtime/jobs/job-events.ts). */
  jobEvents: JobEventHub
  settings: SettingsService
  sites: SiteService
  environments: EnvironmentService
  magicLogin: MagicLoginService
  releases: ReleaseService
  backups: BackupService
  domains: DomainService
  nodes: NodeService
  metrics: MetricsService
  webhooks: WebhookService
  /** Sends webhook deliveries; started and stopped with the scheduler (runtime/scheduler/scheduler.ts). */
  webhookDeliveries: WebhookDeliveries
}

export interface ServiceDeps {
  config: Config
  db: Db
  logger: Logger
  secrets: SecretStore
  jobControl: JobControl
  scryptParams?: ScryptParams
}

export function createServices(deps: ServiceDeps): Services {
  const { config, db, logger, secrets, jobControl } = deps
  const settings = new SettingsService(db, secrets, logger)
  const jobQueue = new JobQueue(db, config, logger.child({ component: 'job-queue' }))
  return {
    config, db, logger, secrets, jobControl, jobQueue,
    auth: new AuthService(db, logger, deps.scryptParams),
    jobs: new JobService(db, config, jobQueue, () => jobControl),
    jobEvents: new JobEventHub(db, logger.child({ component: 'job-events' }), jobQueue.statusEvents),
    settings,
    sites: new SiteService(db, config, settings, () => jobControl),
    environments: new EnvironmentService(db, config, settings, () => jobControl, secrets),
    magicLogin: new MagicLoginService(db, config, secrets, logger),
    releases: new ReleaseService(db, config, () => jobControl),
    backups: new BackupService(db, config, settings, () => jobControl),
    domains: new DomainService(db, config, settings, () => jobControl),
    nodes: new NodeService(db, config, settings, () => jobControl),
    metrics: new MetricsService(db),
    webhooks: new WebhookService(db, config, secrets),
    webhookDeliveries: new WebhookDeliveries(db, config, secrets, logger, jobQueue.statusEvents),
  }
}
