// The runtime services handed to every function: built once at start-up (and in tests) from config, database and secrets.
import type { Config } from './config.js'
import type { Db } from './store/db.js'
import type { Logger } from './logging.js'
import type { SecretStore } from './secrets/secret-store.js'
import type { JobControl } from './jobs/job-control.js'
import { AuthService } from './auth/auth-service.js'
import { JobService } from './jobs/job-service.js'
import type { ScryptParams } from './auth/passwords.js'

export interface Services {
  config: Config
  db: Db
  logger: Logger
  secrets: SecretStore
  auth: AuthService
  jobControl: JobControl
  jobs: JobService
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
  return {
    config, db, logger, secrets, jobControl,
    auth: new AuthService(db, logger, deps.scryptParams),
    jobs: new JobService(db, config, logger, () => jobControl),
  }
}
