// Groups of extra-vars several job types share (environment, release, source, drift, storage, domain, ACME); each
// job type module (runtime/jobs/types/) composes the groups it needs. Names are the playbooks' (ansible/README.md).
import crypto from 'node:crypto'
import fs from 'node:fs'
import type { Config } from '../config.js'
import {
  readBackup, readBaseline, readDomain, readEnvironment, readProductionEnvironmentId, type DomainContext, type EnvContext, type ReleaseContext,
} from '../store/job-context.js'
import { envRoot, releaseIdFor, releasePathFor } from '../jobs/paths.js'
import { str, VarsError, type VarsContext, type VarsPart } from './vars-context.js'
import { protectedSet } from '../drift/presets.js'

const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789'
// No quotes, backslashes, dollars or braces: salts are written into PHP strings and must never look like Jinja.
const SALT_ALPHABET = `${ALNUM}!#%&()*+,-./:;<=>?@[]^_|~`
const SALT_KEYS = ['AUTH_KEY', 'SECURE_AUTH_KEY', 'LOGGED_IN_KEY', 'NONCE_KEY', 'AUTH_SALT', 'SECURE_AUTH_SALT', 'LOGGED_IN_SALT', 'NONCE_SALT']

export function randomString(length: number, alphabet = ALNUM): string {
  let out = ''
  for (let i = 0; i < length; i++) out += alphabet[crypto.randomInt(alphabet.length)]
  return out
}

export function canonicalUrl(env: Pick<EnvContext, 'primary_domain_hostname' | 'preview_url'>): string {
  return env.primary_domain_hostname ? `https://${env.primary_domain_hostname}` : env.preview_url
}

/** The job's environment; every type with environment vars needs it. */
export async function jobEnvironment(ctx: VarsContext): Promise<EnvContext> {
  const env = await readEnvironment(ctx.db, ctx.job.environment_id)
  if (!env) throw new VarsError(`environment ${ctx.job.environment_id} of job ${ctx.job.id} does not exist`)
  return env
}

/**
 * Identity, paths, credentials, URLs and cache flags of an environment. `cache` overrides the row's flags
 * (env_cache_toggle applies the payload's; the row keeps the last applied ones until the job succeeds).
 */
export async function environmentVars(ctx: VarsContext, env: EnvContext, cache?: { fastcgi?: boolean; redis?: boolean }): Promise<VarsPart> {
  const uuid8 = env.id.slice(0, 8)
  return {
    site_id: env.site_id, site_slug: env.site_slug, environment_id: env.id, environment_slug: env.slug, environment_type: env.environment_type,
    env_uuid8: uuid8, env_user: `wp_${uuid8}`, env_root: envRoot(env.site_id, env.slug), env_db_name: `wp_${uuid8}`, env_db_user: `wp_${uuid8}`,
    env_db_password: await ctx.secret(`env/${env.id}/db_password`, () => randomString(32)),
    env_wp_salts: await ctx.secret(`env/${env.id}/wp_salts`, () => JSON.stringify(Object.fromEntries(SALT_KEYS.map((k) => [k, randomString(64, SALT_ALPHABET)])))),
    php_fpm_socket: `/run/php/pressluft-${uuid8}.sock`, preview_url: env.preview_url, preview_host: new URL(env.preview_url).hostname,
    canonical_url: canonicalUrl(env), primary_domain_hostname: env.primary_domain_hostname,
    fastcgi_cache_enabled: cache?.fastcgi ?? env.fastcgi_cache_enabled === 1, redis_cache_enabled: cache?.redis ?? env.redis_cache_enabled === 1,
    redis_prefix: `pressluft_${env.id}:`,
    ...await accessVars(ctx, env),
  }
}

/**
 * Staging protection (docs/decisions.md "Staging protection"), rendered by the nginx-site role of every playbook that
 * writes the environment's server blocks: non-production environments send X-Robots-Tag noindex (from
 * environment_type), and the basic auth setting as the row holds it, with the htpasswd line (`user:<sha512-crypt
 * hash>`, redacted). A missing hash secret of an enabled setting fails the job rather than serve the site unprotected.
 */
async function accessVars(ctx: VarsContext, env: EnvContext): Promise<VarsPart> {
  if (env.basic_auth_enabled !== 1) return { basic_auth_enabled: false, basic_auth_htpasswd: '' }
  const ref = env.basic_auth_password_ref?.startsWith('secret:') ? env.basic_auth_password_ref.slice('secret:'.length) : null
  const hash = ref ? await ctx.secret(ref) : null
  if (!hash || !env.basic_auth_username) throw new VarsError(`basic auth of environment ${env.id} is enabled but its credentials are missing`)
  return { basic_auth_enabled: true, basic_auth_htpasswd: `${env.basic_auth_username}:${hash}` }
}

/**
 * The release the job switches to: by default the new one this job creates (id and directory derive from the job),
 * or an existing `target` (release_rollback). The release live before the job is the rollback target.
 */
export function releaseVars(ctx: VarsContext, env: EnvContext, target?: ReleaseContext): VarsPart {
  return {
    release_id: target ? target.id : releaseIdFor(ctx.job.id),
    release_path: target ? target.path : releasePathFor(env, ctx.job.created_at),
    current_release_path: env.current_release_path,
    previous_release_path: env.current_release_path,
  }
}

/** The environment a clone or promotion copies from (payload.source_environment_id). */
export async function sourceEnvironment(ctx: VarsContext): Promise<EnvContext> {
  const source = await readEnvironment(ctx.db, str(ctx.payload.source_environment_id))
  if (!source) throw new VarsError(`source environment ${String(ctx.payload.source_environment_id)} of job ${ctx.job.id} does not exist`)
  return source
}

export function sourceVars(source: EnvContext): VarsPart {
  return {
    source_environment_id: source.id, source_env_root: envRoot(source.site_id, source.slug), source_db_name: `wp_${source.id.slice(0, 8)}`,
    source_canonical_url: canonicalUrl(source), source_release_path: source.current_release_path,
  }
}

/**
 * What drift checksums cover: the protected tables and paths of `presetEnv`'s promotion preset, its latest baseline
 * (unless `baseline` is false: a clone records the baseline), and the site's production environment, whose data is checked.
 */
export async function driftVars(ctx: VarsContext, env: EnvContext, presetEnv: EnvContext, options: { baseline: boolean }): Promise<VarsPart> {
  const preset = protectedSet(presetEnv.promotion_preset)
  const baseline = options.baseline ? await readBaseline(ctx.db, presetEnv.id) : undefined
  const production = await readEnvironment(ctx.db, await readProductionEnvironmentId(ctx.db, env.site_id))
  return {
    promotion_preset: presetEnv.promotion_preset, protected_tables: [...preset.tables], protected_paths: [...preset.paths],
    baseline_db_checksums_json: baseline?.db_checksums_json ?? null, baseline_file_checksums_json: baseline?.file_checksums_json ?? null,
    production_environment_id: production?.id ?? null,
    production_env_root: production ? envRoot(production.site_id, production.slug) : null,
    production_db_name: production ? `wp_${production.id.slice(0, 8)}` : null,
    production_release_path: production?.current_release_path ?? null,
  }
}

/** The S3 backup storage settings (the secret key is redacted). */
export async function s3Vars(ctx: VarsContext): Promise<VarsPart> {
  return {
    s3_endpoint: ctx.setting('backup_s3_endpoint'), s3_region: ctx.setting('backup_s3_region') ?? 'us-east-1', s3_bucket: ctx.setting('backup_s3_bucket'),
    s3_access_key_id: ctx.setting('backup_s3_access_key_id'), s3_secret_access_key: await ctx.secretSetting('backup_s3_secret_access_key'),
  }
}

/** The backup the job works on (payload.backup_id or restore_db_backup_id), the objects to delete, and the S3 settings. */
export async function storageVars(ctx: VarsContext, cleanupStoragePaths: string[] = []): Promise<VarsPart> {
  const backup = await readBackup(ctx.db, str(ctx.payload.backup_id) ?? str(ctx.payload.restore_db_backup_id))
  return {
    backup_id: backup?.id ?? null, backup_scope: backup?.backup_scope ?? null, backup_storage_path: backup?.storage_path ?? null,
    backup_checksum: backup?.checksum ?? null, cleanup_storage_paths: cleanupStoragePaths, ...await s3Vars(ctx),
  }
}

export function acmeVars(config: Config): VarsPart {
  return {
    acme_directory_url: config.acmeDirectoryUrl, acme_email: config.acmeEmail ?? null,
    acme_ca_cert_pem: config.acmeCaCertFile ? fs.readFileSync(config.acmeCaCertFile, 'utf8') : null,
  }
}

/** The job's domain (payload.domain_id). */
export async function jobDomain(ctx: VarsContext): Promise<DomainContext> {
  const domain = await readDomain(ctx.db, str(ctx.payload.domain_id))
  if (!domain) throw new VarsError(`domain ${String(ctx.payload.domain_id)} of job ${ctx.job.id} does not exist`)
  return domain
}

export function domainVars(config: Config, domain: DomainContext, isPrimary: boolean, nextPrimaryHostname: string | null): VarsPart {
  return {
    domain_id: domain.id, domain_hostname: domain.hostname, domain_is_primary: isPrimary, next_primary_hostname: nextPrimaryHostname,
    ...acmeVars(config),
  }
}
