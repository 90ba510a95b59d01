// Builds vars.json (spec/ansible.md "Extra-vars"): the job payload, then DB enrichment per group; secrets decrypted here.
import crypto from 'node:crypto'
import fs from 'node:fs'
import type { Services } from '../services.js'
import type { JobRow } from '../store/jobs.js'
import type { JobType } from '../contracts/enums.js'
import { hasTemplateSyntax } from '../contracts/validation.js'
import { jobRegistry } from '../jobs/registry.js'
import { envRoot, payloadOf, releaseIdFor, releaseStamp } from '../store/job-effects.js'
import {
  readBackup, readBaseline, readDomain, readEnvironment, readExpiredBackups, readNextPrimaryHostname, readNode,
  readProductionEnvironmentId, readRelease, readSettings, readUserEmail, type EnvContext, type NodeContext,
} from '../store/job-context.js'
import { PUBLIC_KEY_SECRET } from '../ssh/control-plane-key.js'
import { PROTECTED } from '../drift/presets.js'

export type Scalar = string | number | boolean | null
export type ExtraVars = Record<string, Scalar | Scalar[]>

export class VarsError extends Error {}

// The presets moved to runtime/drift/presets.ts (one definition for the extra-vars and the drift comparison).
export { PROTECTED }

const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789'
// No quotes, backslashes, dollars or braces: salts are written into PHP strings and must never look like Jinja.
const SALT_ALPHABET = `${ALNUM}!#%&()*+,-./:;<=>?@[]^_|~`
const SALT_KEYS = ['AUTH_KEY', 'SECURE_AUTH_KEY', 'LOGGED_IN_KEY', 'NONCE_KEY', 'AUTH_SALT', 'SECURE_AUTH_SALT', 'LOGGED_IN_SALT', 'NONCE_SALT']

function randomString(length: number, alphabet = ALNUM): string {
  let out = ''
  for (let i = 0; i < length; i++) out += alphabet[crypto.randomInt(alphabet.length)]
  return out
}

export interface BuiltVars {
  vars: ExtraVars
  /** Every secret value of the attempt, for redaction of logged output and error_message. */
  secrets: string[]
  /** backup_cleanup: the backups selected at start, marked expired on success. */
  expiredBackupIds?: string[]
  node: NodeContext
}

interface Build {
  services: Services
  job: JobRow
  resultPath: string
}

export async function buildExtraVars({ services, job, resultPath }: Build): Promise<BuiltVars> {
  const { db, config, secrets: store } = services
  const spec = jobRegistry[job.job_type as JobType]
  const payload = payloadOf(job)
  const secrets: string[] = []
  const secret = async (name: string, generate?: () => string): Promise<string | null> => {
    let value = await store.get(name)
    if (value === null && generate) {
      value = generate()
      await store.set(name, value)
    }
    if (value !== null) secrets.push(value)
    return value
  }
  const settings = await readSettings(db)
  const setting = (key: string): string | null => settings.get(key) ?? null
  const secretSetting = async (key: string): Promise<string | null> => {
    const ref = setting(key)
    return ref?.startsWith('secret:') ? secret(ref.slice('secret:'.length)) : null
  }
  const str = (value: unknown): string | null => typeof value === 'string' && value !== '' ? value : null

  const node = await readNode(db, job.node_id)
  if (!node) throw new VarsError(`node ${job.node_id} of job ${job.id} does not exist`)
  const vars: ExtraVars = {}
  for (const [key, value] of Object.entries(payload)) vars[key] = flatten(value)

  Object.assign(vars, {
    job_id: job.id, job_type: job.job_type, node_id: node.id, node_hostname: node.hostname, node_public_ip: node.public_ip,
    node_ssh_user: node.ssh_user, node_is_local: node.is_local === 1, pressluft_result_path: resultPath,
  })

  const env = await readEnvironment(db, job.environment_id)
  if (spec.varGroups.includes('environment')) {
    if (!env) throw new VarsError(`environment ${job.environment_id} of job ${job.id} does not exist`)
    Object.assign(vars, await environmentVars(env, job, payload, secret))
  }

  if (spec.varGroups.includes('release') && env) {
    const root = envRoot(env.site_id, env.slug)
    if (job.job_type === 'release_rollback') {
      const to = await readRelease(db, str(payload.to_release_id))
      if (!to || to.environment_id !== env.id) throw new VarsError(`rollback target release ${String(payload.to_release_id)} does not belong to environment ${env.id}`)
      vars.release_id = to.id
      vars.release_path = to.path
    } else {
      vars.release_id = releaseIdFor(job.id)
      vars.release_path = `${root}/releases/${releaseStamp(job.created_at)}`
    }
    vars.current_release_path = env.current_release_path
    // The release live before this job is the rollback target once release_path is switched in (kept when pruning).
    vars.previous_release_path = env.current_release_path
  }

  const source = spec.varGroups.includes('source') ? await readEnvironment(db, str(payload.source_environment_id)) : undefined
  if (spec.varGroups.includes('source')) {
    if (!source) throw new VarsError(`source environment ${String(payload.source_environment_id)} of job ${job.id} does not exist`)
    Object.assign(vars, {
      source_environment_id: source.id, source_env_root: envRoot(source.site_id, source.slug), source_db_name: `wp_${source.id.slice(0, 8)}`,
      source_canonical_url: canonicalUrl(source), source_release_path: source.current_release_path,
    })
  }

  if (spec.varGroups.includes('drift') && env) {
    // Promotion protects what the source's preset names; checks and baselines use the checked env's preset.
    const presetEnv = job.job_type === 'env_promote' && source ? source : env
    const preset = PROTECTED[presetEnv.promotion_preset as keyof typeof PROTECTED] ?? PROTECTED['content-protect']
    const baseline = job.job_type === 'env_create' ? undefined : await readBaseline(db, presetEnv.id)
    // The drift data is production's: the playbook checksums the site's production environment.
    const production = await readEnvironment(db, await readProductionEnvironmentId(db, env.site_id))
    Object.assign(vars, {
      promotion_preset: presetEnv.promotion_preset, protected_tables: [...preset.tables], protected_paths: [...preset.paths],
      baseline_db_checksums_json: baseline?.db_checksums_json ?? null, baseline_file_checksums_json: baseline?.file_checksums_json ?? null,
      production_environment_id: production?.id ?? null,
      production_env_root: production ? envRoot(production.site_id, production.slug) : null,
      production_db_name: production ? `wp_${production.id.slice(0, 8)}` : null,
      production_release_path: production?.current_release_path ?? null,
    })
  }

  let expiredBackupIds: string[] | undefined
  if (spec.varGroups.includes('storage')) {
    const backup = await readBackup(db, str(payload.backup_id) ?? str(payload.restore_db_backup_id))
    let cleanup: string[] = []
    if (job.job_type === 'backup_cleanup') {
      const expired = await readExpiredBackups(db, new Date().toISOString())
      expiredBackupIds = expired.map((b) => b.id)
      cleanup = expired.map((b) => b.storage_path)
    }
    Object.assign(vars, {
      backup_id: backup?.id ?? null, backup_scope: backup?.backup_scope ?? null, backup_storage_path: backup?.storage_path ?? null,
      backup_checksum: backup?.checksum ?? null, cleanup_storage_paths: cleanup, ...await storageVars(),
    })
  } else if (job.job_type === 'env_deploy' && str(payload.source_ref)?.startsWith('s3://')) {
    Object.assign(vars, await storageVars())
  }

  const acme = () => ({
    acme_directory_url: config.acmeDirectoryUrl, acme_email: config.acmeEmail ?? null,
    acme_ca_cert_pem: config.acmeCaCertFile ? fs.readFileSync(config.acmeCaCertFile, 'utf8') : null,
  })
  if (spec.varGroups.includes('domain') && env) {
    const domain = await readDomain(db, str(payload.domain_id))
    if (!domain) throw new VarsError(`domain ${String(payload.domain_id)} of job ${job.id} does not exist`)
    const isPrimary = job.job_type === 'domain_add' ? env.primary_domain_id === null || env.primary_domain_id === domain.id : env.primary_domain_id === domain.id
    Object.assign(vars, {
      domain_id: domain.id, domain_hostname: domain.hostname, domain_is_primary: isPrimary,
      next_primary_hostname: job.job_type === 'domain_remove' && isPrimary ? await readNextPrimaryHostname(db, env.id, domain.id) : null,
      ...acme(),
    })
  }

  if (spec.varGroups.includes('node_provision')) {
    Object.assign(vars, {
      preview_domain: setting('preview_domain'), dns01_provider: setting('dns01_provider'),
      dns01_credentials: await secretSetting('dns01_credentials_json'), control_plane_domain: setting('control_plane_domain'),
      control_plane_upstream: `http://${config.listenHost.includes(':') ? `[${config.listenHost}]` : config.listenHost}:${config.listenPort}`,
      ...acme(), wp_core_url: config.wpCoreUrl, control_plane_public_key: await store.get(PUBLIC_KEY_SECRET),
    })
  }

  switch (job.job_type) {
    case 'site_create':
      Object.assign(vars, {
        wp_title: env?.site_name ?? null, wp_admin_user: 'pressluft',
        wp_admin_email: await readUserEmail(db, job.requested_by) ?? config.adminEmail,
        wp_admin_password: await secret(`env/${job.environment_id}/wp_admin_password`, () => randomString(24)),
      })
      break
    case 'site_import':
      Object.assign(vars, {
        archive_url: str(payload.archive_url), import_max_archive_bytes: config.importLimits.maxArchiveBytes,
        import_max_unpacked_bytes: config.importLimits.maxUnpackedBytes, import_max_entries: config.importLimits.maxEntries,
      })
      break
    case 'env_deploy':
      Object.assign(vars, { release_source_type: str(payload.source_type), release_source_ref: str(payload.source_ref) })
      break
    case 'env_update':
      vars.update_scope = str(payload.scope)
      vars.wp_update_source = config.wpUpdateSource
      break
    case 'health_check': {
      const url = String(vars.canonical_url ?? '')
      Object.assign(vars, {
        health_url: `${url.replace(/\/$/, '')}/?pressluft_health=${job.id}`, health_host: url ? new URL(url).hostname : null,
        health_timeout_seconds: config.healthCheck.timeoutSeconds, health_retries: config.healthCheck.retries,
      })
      break
    }
  }

  for (const [key, value] of Object.entries(vars)) {
    vars[key] = flatten(value)
    const values = Array.isArray(value) ? value : [value]
    if (values.some((v) => typeof v === 'string' && hasTemplateSyntax(v))) throw new VarsError(`extra-var ${key} contains {{, {% or {#, which Ansible would template`)
  }
  return { vars, secrets, expiredBackupIds, node }

  async function storageVars() {
    return {
      s3_endpoint: setting('backup_s3_endpoint'), s3_region: setting('backup_s3_region') ?? 'us-east-1', s3_bucket: setting('backup_s3_bucket'),
      s3_access_key_id: setting('backup_s3_access_key_id'), s3_secret_access_key: await secretSetting('backup_s3_secret_access_key'),
    }
  }
}

// Unset values travel as '' — the playbooks test `x | length > 0` / `x != ''`, and Jinja treats JSON null as None.
function flatten(value: unknown): Scalar | Scalar[] {
  if (value === null || value === undefined) return ''
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') return value
  if (Array.isArray(value) && value.every((v) => v === null || ['string', 'number', 'boolean'].includes(typeof v))) return value as Scalar[]
  return JSON.stringify(value)
}

export function canonicalUrl(env: Pick<EnvContext, 'primary_domain_hostname' | 'preview_url'>): string {
  return env.primary_domain_hostname ? `https://${env.primary_domain_hostname}` : env.preview_url
}

async function environmentVars(env: EnvContext, job: JobRow, payload: Record<string, unknown>, secret: (name: string, generate?: () => string) => Promise<string | null>) {
  const uuid8 = env.id.slice(0, 8)
  // env_cache_toggle applies the payload's flags; the env row keeps the last applied ones until the job succeeds.
  const toggle = job.job_type === 'env_cache_toggle'
  const fastcgi = toggle && typeof payload.fastcgi_cache_enabled === 'boolean' ? payload.fastcgi_cache_enabled : env.fastcgi_cache_enabled === 1
  const redis = toggle && typeof payload.redis_cache_enabled === 'boolean' ? payload.redis_cache_enabled : env.redis_cache_enabled === 1
  return {
    site_id: env.site_id, site_slug: env.site_slug, environment_id: env.id, environment_slug: env.slug, environment_type: env.environment_type,
    env_uuid8: uuid8, env_user: `wp_${uuid8}`, env_root: envRoot(env.site_id, env.slug), env_db_name: `wp_${uuid8}`, env_db_user: `wp_${uuid8}`,
    env_db_password: await secret(`env/${env.id}/db_password`, () => randomString(32)),
    env_wp_salts: await secret(`env/${env.id}/wp_salts`, () => JSON.stringify(Object.fromEntries(SALT_KEYS.map((k) => [k, randomString(64, SALT_ALPHABET)])))),
    php_fpm_socket: `/run/php/pressluft-${uuid8}.sock`, preview_url: env.preview_url, preview_host: new URL(env.preview_url).hostname,
    canonical_url: canonicalUrl(env), primary_domain_hostname: env.primary_domain_hostname,
    fastcgi_cache_enabled: fastcgi, redis_cache_enabled: redis, redis_prefix: `pressluft_${env.id}:`,
  }
}
