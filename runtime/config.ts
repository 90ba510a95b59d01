// Reads the PRESSLUFT_* environment variables over the defaults of runtime/config-defaults.ts; an invalid value stops start-up.
import fs from 'node:fs'
import path from 'node:path'
import { defaults as builtInDefaults, type RuntimeDefaults } from './config-defaults.js'

export interface Config {
  listenHost: string
  listenPort: number
  dataDir: string
  dbUrl: string
  dbAuthToken: string | undefined
  secretsDir: string
  adminEmail: string
  adminPassword: string | undefined
  logLevel: string
  maxConcurrentJobs: number
  jobTimeoutSeconds: number
  pollIntervalMs: number
  maxAttempts: number
  /** Wait before each retry of a retryable failure, in seconds (the last value repeats). */
  backoffSeconds: number[]
  gateFreshnessMinutes: number
  nodeQueryTimeoutSeconds: number
  healthCheck: { timeoutSeconds: number; retries: number }
  importLimits: { maxArchiveBytes: number; maxUnpackedBytes: number; maxEntries: number }
  acmeDirectoryUrl: string
  acmeCaCertFile: string | undefined
  acmeEmail: string | undefined
  wpCoreUrl: string
  /** Base URL answering WordPress's update API paths for env_update; '' = api.wordpress.org. */
  wpUpdateSource: string
  jobTimeoutOverrides: Partial<Record<string, number>>
  /** Webhook deliveries (docs/webhooks.md): loopback receivers allowed, per-try timeout, waits before each retry. */
  webhooks: { allowLoopback: boolean; timeoutSeconds: number; retryBackoffSeconds: number[] }
  /** Root of the repository: the Ansible tree is resolved from here. */
  repoRoot: string
}

export class ConfigError extends Error {}

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']

function fail(variable: string, reason: string): never {
  throw new ConfigError(`${variable}: ${reason}`)
}

function positiveInt(env: NodeJS.ProcessEnv, variable: string, fallback: number, max = 1_000_000): number {
  const raw = env[variable]
  if (raw === undefined || raw === '') return fallback
  if (!/^\d+$/.test(raw) || Number(raw) < 1 || Number(raw) > max) fail(variable, `must be an integer from 1 to ${max}, got "${raw}"`)
  return Number(raw)
}

/** A comma-separated list of 1 to 10 whole seconds, each from 1 to 86400 (e.g. "60,300,900"). */
function secondsList(env: NodeJS.ProcessEnv, variable: string, fallback: number[]): number[] {
  const raw = env[variable]
  if (raw === undefined || raw === '') return fallback
  const parts = raw.split(',').map((part) => part.trim())
  if (parts.length > 10 || parts.some((part) => !/^\d+$/.test(part) || Number(part) < 1 || Number(part) > 86_400)) {
    fail(variable, `must be 1 to 10 comma-separated whole seconds from 1 to 86400 (e.g. 60,300,900), got "${raw}"`)
  }
  return parts.map(Number)
}

function flag(env: NodeJS.ProcessEnv, variable: string): boolean {
  const raw = (env[variable] ?? '').toLowerCase()
  if (raw === '' || raw === 'false' || raw === '0') return false
  if (raw === 'true' || raw === '1') return true
  fail(variable, `must be true or false, got "${env[variable]}"`)
}

function listenAddr(raw: string): { host: string; port: number } {
  const match = /^(?:\[([0-9a-fA-F:]+)\]|([^:\s]+)):(\d{1,5})$/.exec(raw)
  const port = match ? Number(match[3]) : NaN
  if (!match || port < 1 || port > 65535) fail('PRESSLUFT_LISTEN_ADDR', `must be host:port (e.g. 127.0.0.1:8080), got "${raw}"`)
  return { host: match[1] ?? match[2], port }
}

function dbUrl(raw: string): string {
  if (!/^(file:|libsql:\/\/|https?:\/\/|wss?:\/\/)/.test(raw)) fail('PRESSLUFT_DB_URL', `must be a libSQL URL (file:, libsql://, http(s)://, ws(s)://), got "${raw}"`)
  return raw
}

function httpUrl(variable: string, raw: string): string {
  try {
    const url = new URL(raw)
    if (url.protocol === 'http:' || url.protocol === 'https:') return raw
  } catch { /* reported below */ }
  fail(variable, `must be an http(s) URL, got "${raw}"`)
}

/** The directory holding ansible/ansible.cfg: the repository root, whether we run from runtime/ (tsx) or dist/runtime/. */
function findRepoRoot(start: string): string {
  for (let dir = start; ; dir = path.dirname(dir)) {
    if (fs.existsSync(path.join(dir, 'ansible', 'ansible.cfg'))) return dir
    if (path.dirname(dir) === dir) return path.resolve(start, '..')
  }
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env, defaults: RuntimeDefaults = builtInDefaults): Config {
  const { host, port } = listenAddr(env.PRESSLUFT_LISTEN_ADDR || defaults.listenAddr)
  const dataDir = path.resolve(env.PRESSLUFT_DATA_DIR || defaults.dataDir)
  const logLevel = env.PRESSLUFT_LOG_LEVEL || defaults.logLevel
  if (!LOG_LEVELS.includes(logLevel)) fail('PRESSLUFT_LOG_LEVEL', `must be one of ${LOG_LEVELS.join(', ')}, got "${logLevel}"`)
  const adminEmail = (env.PRESSLUFT_ADMIN_EMAIL || defaults.adminEmail).toLowerCase()
  if (!/^[^\s@]+@[^\s@]+$/.test(adminEmail) || adminEmail.length > 254) fail('PRESSLUFT_ADMIN_EMAIL', `must be an email address, got "${adminEmail}"`)
  const adminPassword = env.PRESSLUFT_ADMIN_PASSWORD || undefined
  if (adminPassword !== undefined && (adminPassword.length < 12 || adminPassword.length > 1024)) fail('PRESSLUFT_ADMIN_PASSWORD', 'must be 12 to 1024 characters long')
  const acmeCaCertFile = env.PRESSLUFT_ACME_CA_CERT_FILE || undefined
  const acmeEmail = env.PRESSLUFT_ACME_EMAIL || undefined
  if (acmeEmail !== undefined && !/^[^\s@]+@[^\s@]+$/.test(acmeEmail)) fail('PRESSLUFT_ACME_EMAIL', `must be an email address, got "${acmeEmail}"`)

  return {
    listenHost: host,
    listenPort: port,
    dataDir,
    dbUrl: dbUrl(env.PRESSLUFT_DB_URL || `file:${path.join(dataDir, 'pressluft.db')}`),
    dbAuthToken: env.PRESSLUFT_DB_AUTH_TOKEN || undefined,
    secretsDir: path.resolve(env.PRESSLUFT_SECRETS_DIR || path.join(dataDir, 'secrets')),
    adminEmail,
    adminPassword,
    logLevel,
    maxConcurrentJobs: positiveInt(env, 'PRESSLUFT_MAX_CONCURRENT_JOBS', defaults.maxConcurrentJobs, 256),
    jobTimeoutSeconds: positiveInt(env, 'PRESSLUFT_JOB_TIMEOUT_SECONDS', defaults.jobTimeoutSeconds, 7 * 24 * 3600),
    pollIntervalMs: positiveInt(env, 'PRESSLUFT_POLL_INTERVAL_MS', defaults.pollIntervalMs, 60_000),
    maxAttempts: defaults.maxAttempts,
    backoffSeconds: secondsList(env, 'PRESSLUFT_RETRY_BACKOFF_SECONDS', defaults.retryBackoffSeconds),
    gateFreshnessMinutes: defaults.gateFreshnessMinutes,
    nodeQueryTimeoutSeconds: defaults.nodeQueryTimeoutSeconds,
    healthCheck: defaults.healthCheck,
    importLimits: {
      maxArchiveBytes: positiveInt(env, 'PRESSLUFT_IMPORT_MAX_ARCHIVE_BYTES', defaults.importLimits.maxArchiveBytes, Number.MAX_SAFE_INTEGER),
      maxUnpackedBytes: positiveInt(env, 'PRESSLUFT_IMPORT_MAX_UNPACKED_BYTES', defaults.importLimits.maxUnpackedBytes, Number.MAX_SAFE_INTEGER),
      maxEntries: positiveInt(env, 'PRESSLUFT_IMPORT_MAX_ENTRIES', defaults.importLimits.maxEntries, Number.MAX_SAFE_INTEGER),
    },
    acmeDirectoryUrl: httpUrl('PRESSLUFT_ACME_DIRECTORY_URL', env.PRESSLUFT_ACME_DIRECTORY_URL || defaults.acmeDirectoryUrl),
    acmeCaCertFile,
    acmeEmail,
    // "distro" makes nodes copy the distribution's wordpress package instead of downloading core (nodes without web access).
    wpCoreUrl: env.PRESSLUFT_WP_CORE_URL === 'distro' ? 'distro' : httpUrl('PRESSLUFT_WP_CORE_URL', env.PRESSLUFT_WP_CORE_URL || defaults.wpCoreUrl),
    wpUpdateSource: env.PRESSLUFT_WP_UPDATE_SOURCE ? httpUrl('PRESSLUFT_WP_UPDATE_SOURCE', env.PRESSLUFT_WP_UPDATE_SOURCE) : defaults.wpUpdateSource,
    jobTimeoutOverrides: defaults.jobTimeoutOverrides,
    webhooks: {
      allowLoopback: flag(env, 'PRESSLUFT_WEBHOOK_ALLOW_LOOPBACK'),
      timeoutSeconds: positiveInt(env, 'PRESSLUFT_WEBHOOK_TIMEOUT_SECONDS', defaults.webhookTimeoutSeconds, 120),
      retryBackoffSeconds: secondsList(env, 'PRESSLUFT_WEBHOOK_RETRY_SECONDS', defaults.webhookRetryBackoffSeconds),
    },
    repoRoot: findRepoRoot(path.dirname(new URL(import.meta.url).pathname)),
  }
}
