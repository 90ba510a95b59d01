// Builds a control plane from a Config: database + migrations, secrets + SSH key, admin user, services and app.
import type { OpenAPIHono } from '@hono/zod-openapi'
import type { Config } from './config.js'
import type { Logger } from './logging.js'
import { openDatabase, prepareDatabase } from './store/db.js'
import { migrate } from './store/migrate.js'
import { preparePrivateData, tightenDbFiles } from './store/private-data.js'
import { SecretStore } from './secrets/secret-store.js'
import { ensureControlPlaneKey } from './ssh/control-plane-key.js'
import { createServices, type Services } from './services.js'
import { createApp } from './app.js'
import { mountDocs } from './http/docs.js'
import type { AppEnv } from './http/define-function.js'
import type { JobControl } from './jobs/job-control.js'
import type { ScryptParams } from './auth/passwords.js'
import { functions, schedules } from '../hono.config.js'
import { runJobAttempt } from './jobs/run-attempt.js'
import { Scheduler } from './scheduler/scheduler.js'
import type { AnsibleOptions, JobRunner } from './jobs/job-runner.js'

export interface ControlPlane {
  services: Services
  app: OpenAPIHono<AppEnv>
  generatedAdminPassword?: string
  /** The job loop; absent when the caller supplied its own JobControl. */
  scheduler?: Scheduler
}

export interface BootstrapOptions {
  jobControl?: JobControl
  /** Start the job loop (npm start does; tests opt in). Without it jobs stay queued and nothing touches a node. */
  startScheduler?: boolean
  /** Replaces the per-job runner runtime/jobs/run-attempt.ts (tests and benchmarks use stand-ins). */
  jobRunner?: JobRunner
  /** Ansible overrides for the runner (tests: fixture playbooks, shorter kill grace). */
  ansible?: AnsibleOptions
  maxConcurrentJobs?: number
  scryptParams?: ScryptParams
}

/** A JobControl that does nothing: used until the scheduler is attached (and by API-only tests). */
export const idleJobControl: JobControl = { wake() {}, abortRunning() {} }

export async function bootstrap(config: Config, logger: Logger, options: BootstrapOptions = {}): Promise<ControlPlane> {
  preparePrivateData(config, logger)
  const db = openDatabase(config.dbUrl, config.dbAuthToken)
  await prepareDatabase(db)
  tightenDbFiles(config.dbUrl)
  const applied = await migrate(db)
  if (applied.length) logger.info({ migrations: applied }, 'applied migrations')
  const secrets = SecretStore.open(config.secretsDir)
  await ensureControlPlaneKey(secrets)
  const scheduler = options.jobControl ? undefined : new Scheduler(config, logger, {
    runner: options.jobRunner ?? runJobAttempt, schedules, ansible: options.ansible, maxConcurrentJobs: options.maxConcurrentJobs,
  })
  const services = createServices({ config, db, logger, secrets, jobControl: options.jobControl ?? scheduler ?? idleJobControl, scryptParams: options.scryptParams })
  scheduler?.attach(services)
  const admin = await services.auth.bootstrapAdmin(config.adminEmail, config.adminPassword)
  if (admin.created) logger.info({ email: config.adminEmail }, 'created the admin user')
  await services.auth.purgeOldSessions()
  const app = createApp(services, { functions, extraRoutes: (a) => mountDocs(a, functions) })
  if (scheduler && options.startScheduler) await scheduler.start()
  return { services, app, scheduler, generatedAdminPassword: admin.generatedPassword }
}
