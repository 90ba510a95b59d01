// What a job type's extra-vars builder gets (runtime/ansible/extra-vars.ts builds it, runtime/jobs/types/ use it).
import type { Executor } from '../store/db.js'
import type { JobRow } from '../store/jobs.js'
import type { NodeContext } from '../store/job-context.js'
import type { Config } from '../config.js'
import type { SecretStore } from '../secrets/secret-store.js'

export type Scalar = string | number | boolean | null
export type ExtraVars = Record<string, Scalar | Scalar[]>
/** Vars as a builder returns them; null/undefined, objects and nested arrays are flattened before vars.json is written. */
export type VarsPart = Record<string, unknown>

/** A builder cannot produce the vars (a row it needs is gone, a value Ansible would template): INTERNAL_ERROR. */
export class VarsError extends Error {}

export interface VarsContext {
  db: Executor
  config: Config
  secrets: SecretStore
  job: JobRow
  payload: Record<string, unknown>
  node: NodeContext
  /** Reads (or first creates) a secret; its value is redacted from the attempt's output. */
  secret(name: string, generate?: () => string): Promise<string | null>
  /** A settings row's value. */
  setting(key: string): string | null
  /** The secret a `secret:<name>` setting points to (redacted), or null. */
  secretSetting(key: string): Promise<string | null>
  /** Values kept for the success effects of the attempt (SuccessContext.carry), e.g. backup_cleanup's selection. */
  carry: Record<string, unknown>
}

/** A non-empty string, else null (payload values). */
export { stringOrNull as str } from '../store/job-guard.js'
