// The settings keys, their defaults, and the value and cross-field rules applied to the merged result.
import { DNS01_PROVIDERS, BACKUP_STORAGE_KEYS } from '../contracts/enums.js'
import { hasControlCharacters, hasTemplateSyntax, isHostname, isSafeHttpUrl } from '../contracts/validation.js'
import { allowedSourcesProblem } from '../contracts/archive-url.js'

export const SETTING_KEYS = [
  'control_plane_domain', 'preview_domain', 'dns01_provider', 'dns01_credentials_json', 'backup_s3_endpoint',
  'backup_s3_region', 'backup_s3_bucket', 'backup_s3_access_key_id', 'backup_s3_secret_access_key',
  'backup_retention_days', 'hetzner_api_token', 'hetzner_api_base_url', 'import_allowed_sources',
] as const
export type SettingKey = (typeof SETTING_KEYS)[number]

export const SECRET_SETTING_KEYS = ['dns01_credentials_json', 'backup_s3_secret_access_key', 'hetzner_api_token'] as const
export type SecretSettingKey = (typeof SECRET_SETTING_KEYS)[number]

export const SETTING_DEFAULTS: Partial<Record<SettingKey, string>> = {
  backup_s3_region: 'us-east-1',
  backup_retention_days: '30',
  hetzner_api_base_url: 'https://api.hetzner.cloud/v1',
}

export { BACKUP_STORAGE_KEYS }

export function isSecretKey(key: string): key is SecretSettingKey {
  return (SECRET_SETTING_KEYS as readonly string[]).includes(key)
}

export function secretName(key: SecretSettingKey): string {
  return `settings/${key}`
}

const BUCKET_RE = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/
const REGION_RE = /^[A-Za-z0-9_.-]{1,64}$/
const CREDENTIAL_KEY_RE = /^[a-z0-9_]+$/
const MAX_DNS_CREDENTIALS_BYTES = 8 * 1024

function plainToken(value: string, max: number): boolean {
  return value.length >= 1 && value.length <= max && !/\s/.test(value) && !hasControlCharacters(value)
}

function dnsCredentialsProblem(value: string): string | null {
  if (Buffer.byteLength(value) > MAX_DNS_CREDENTIALS_BYTES) return 'must be at most 8 KiB'
  let parsed: unknown
  try { parsed = JSON.parse(value) } catch { return 'must be a JSON object' }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return 'must be a JSON object'
  for (const [key, item] of Object.entries(parsed)) {
    if (!CREDENTIAL_KEY_RE.test(key)) return `key "${key.slice(0, 40)}" must match ^[a-z0-9_]+$`
    if (typeof item !== 'string') return `value of "${key}" must be a string`
  }
  return null
}

// certbot-dns-rfc2136's credentials file (TSIG-signed RFC 2136 updates to the zone's primary server).
const RFC2136_REQUIRED = ['dns_rfc2136_server', 'dns_rfc2136_name', 'dns_rfc2136_secret'] as const
const TSIG_ALGORITHMS = ['HMAC-MD5', 'HMAC-SHA1', 'HMAC-SHA224', 'HMAC-SHA256', 'HMAC-SHA384', 'HMAC-SHA512']

/** Problems of credentials the named provider's plugin could not use (checked when either of them changes). */
export function providerCredentialsProblem(provider: string, value: string): string | null {
  if (provider !== 'rfc2136') return null
  let parsed: Record<string, string>
  try { parsed = JSON.parse(value) as Record<string, string> } catch { return null }
  const missing = RFC2136_REQUIRED.filter((key) => !parsed[key])
  if (missing.length > 0) return `rfc2136 needs ${missing.join(', ')} (optional: dns_rfc2136_port, dns_rfc2136_algorithm)`
  const port = parsed.dns_rfc2136_port
  if (port !== undefined && !(/^\d{1,5}$/.test(port) && Number(port) >= 1 && Number(port) <= 65535)) return 'dns_rfc2136_port must be a port number (1-65535)'
  const algorithm = parsed.dns_rfc2136_algorithm
  if (algorithm !== undefined && !TSIG_ALGORITHMS.includes(algorithm.toUpperCase())) return `dns_rfc2136_algorithm must be one of ${TSIG_ALGORITHMS.join(', ')}`
  return null
}

const VALUE_RULES: Record<SettingKey, (value: string) => string | null> = {
  control_plane_domain: (v) => (isHostname(v) ? null : 'must be a lowercase fully qualified hostname'),
  preview_domain: (v) => (isHostname(v) ? null : 'must be a lowercase fully qualified hostname'),
  dns01_provider: (v) => ((DNS01_PROVIDERS as readonly string[]).includes(v) ? null : `must be one of ${DNS01_PROVIDERS.join(', ')}`),
  dns01_credentials_json: dnsCredentialsProblem,
  backup_s3_endpoint: (v) => (isSafeHttpUrl(v) ? null : 'must be an http(s) URL with a host and no credentials'),
  backup_s3_region: (v) => (REGION_RE.test(v) ? null : 'must be 1-64 letters, digits, dots, hyphens or underscores'),
  backup_s3_bucket: (v) => (BUCKET_RE.test(v) ? null : 'must be a bucket name (3-63 lowercase letters, digits, dots, hyphens)'),
  backup_s3_access_key_id: (v) => (plainToken(v, 256) ? null : 'must be 1-256 characters without whitespace'),
  backup_s3_secret_access_key: (v) => (plainToken(v, 256) ? null : 'must be 1-256 characters without whitespace'),
  backup_retention_days: (v) => (/^\d+$/.test(v) && Number(v) >= 1 && Number(v) <= 3650 ? null : 'must be an integer from 1 to 3650'),
  hetzner_api_token: (v) => (plainToken(v, 256) ? null : 'must be 1-256 characters without whitespace'),
  hetzner_api_base_url: (v) => (isSafeHttpUrl(v) ? null : 'must be an http(s) URL with a host and no credentials'),
  import_allowed_sources: allowedSourcesProblem,
}

/**
 * Problems of a settings state, keyed by setting. `values` holds every set key (secrets as their plaintext when it is
 * being changed, or a placeholder when unchanged); `changed` limits value checks to keys the request touched, so an
 * unchanged secret is never re-read just to validate it.
 */
export function settingsProblems(values: Map<SettingKey, string>, changed: Set<SettingKey>): Record<string, string> {
  const problems: Record<string, string> = {}
  for (const key of changed) {
    const value = values.get(key)
    if (value === undefined) continue
    // Every setting may reach Ansible extra-vars, where Jinja delimiters would be templated.
    const problem = hasTemplateSyntax(value) ? 'must not contain {{, {% or {#' : VALUE_RULES[key](value)
    if (problem) problems[key] = problem
  }
  const previewDomain = values.get('preview_domain')
  if (previewDomain !== undefined) {
    if (!values.has('dns01_provider')) problems.dns01_provider ??= 'is required while preview_domain is set'
    if (!values.has('dns01_credentials_json')) problems.dns01_credentials_json ??= 'is required while preview_domain is set'
    if (previewDomain === values.get('control_plane_domain')) problems.preview_domain ??= 'must differ from control_plane_domain'
  }
  // An unchanged secret is a placeholder here, so provider-specific keys are checked only when the credentials change.
  const provider = values.get('dns01_provider')
  const credentials = values.get('dns01_credentials_json')
  if (provider && credentials && changed.has('dns01_credentials_json') && !problems.dns01_credentials_json) {
    const problem = providerCredentialsProblem(provider, credentials)
    if (problem) problems.dns01_credentials_json = problem
  }
  const storageSet = BACKUP_STORAGE_KEYS.filter((key) => values.has(key))
  if (storageSet.length > 0 && storageSet.length < BACKUP_STORAGE_KEYS.length) {
    for (const key of BACKUP_STORAGE_KEYS) {
      if (!values.has(key)) problems[key] ??= 'backup storage needs endpoint, bucket, access key id and secret all set (or all unset)'
    }
  }
  return problems
}
