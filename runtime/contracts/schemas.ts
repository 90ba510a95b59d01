// Zod schemas of every API request and resource, named for the generated OpenAPI contract (contracts/openapi.json).
import { z } from '@hono/zod-openapi'
import * as E from './enums.js'
import { JOB_TYPES } from '../jobs/registry.js'
import {
  SLUG_RE, NODE_NAME_RE, BASIC_AUTH_USER_RE, SSH_USER_RE, PROVIDER_FIELD_RE, hasTemplateSyntax, hasControlCharacters, isHostname,
  isIpv4, isNodeHostname, isSafeHttpUrl, isUploadRef, isGitRef,
} from './validation.js'

const noTemplate = (s: string) => !hasTemplateSyntax(s)
const TEMPLATE_MESSAGE = 'must not contain {{, {% or {#'

export const Uuid = z.uuid().openapi({ example: '0b9f1c1e-6a4e-4c47-9b8e-2f5d0c3b7a10' })
export const Timestamp = z.string().openapi({ example: '2026-02-18T12:34:56.789Z' })
export const Name = z.string().min(1).max(100)
  .refine((s) => !hasControlCharacters(s), 'must not contain control characters')
  .refine(noTemplate, TEMPLATE_MESSAGE)
export const Slug = z.string().regex(SLUG_RE, 'must be 1-40 lowercase letters, digits or inner hyphens')

export const IdParam = z.object({ id: Uuid.openapi({ param: { name: 'id', in: 'path' } }) })

export const JobAccepted = z.object({ job_id: Uuid }).openapi('JobAccepted')
export const ResetResponse = z.object({ success: z.literal(true), status: z.literal('active') }).openapi('ResetResponse')
export const SuccessResponse = z.object({ success: z.literal(true) }).openapi('SuccessResponse')
export const CancelJobResponse = z.object({ success: z.literal(true), status: z.literal('cancelled') }).openapi('CancelJobResponse')

export function page<T extends z.ZodTypeAny>(item: T, name: string) {
  return z.object({ items: z.array(item), next_cursor: z.string().nullable() }).openapi(name)
}

export const PageQuery = z.object({
  limit: z.coerce.number().int().min(1).max(200).optional().openapi({ param: { name: 'limit', in: 'query' }, example: 50 }),
  cursor: z.string().max(200).optional().openapi({ param: { name: 'cursor', in: 'query' } }),
})

// ---- resources ----

export const Site = z.object({
  id: Uuid, name: z.string(), slug: z.string(), status: z.enum(E.SITE_STATUSES),
  primary_environment_id: Uuid.nullable(), created_at: Timestamp, updated_at: Timestamp, state_version: z.number().int(),
}).openapi('Site')

export const DriftDifferences = z.object({
  tables: z.array(z.string()).openapi({ description: 'Tables a promotion would overwrite that changed in production since the clone (unprefixed)' }),
  paths: z.array(z.string()).openapi({ description: 'Paths a promotion would overwrite that changed; `release` = production\'s current release' }),
  protected_tables: z.array(z.string()).openapi({ description: 'Protected tables that changed (information only; a promotion keeps them)' }),
  protected_paths: z.array(z.string()).openapi({ description: 'Protected paths that changed (information only)' }),
}).openapi('DriftDifferences')

export const Environment = z.object({
  id: Uuid, site_id: Uuid, name: z.string(), slug: z.string(), environment_type: z.enum(E.ENVIRONMENT_TYPES),
  status: z.enum(E.SITE_STATUSES), node_id: Uuid, source_environment_id: Uuid.nullable(),
  promotion_preset: z.enum(E.PROMOTION_PRESETS), preview_url: z.string(), primary_domain_id: Uuid.nullable(),
  current_release_id: Uuid.nullable(), drift_status: z.enum(E.DRIFT_STATUSES), drift_checked_at: Timestamp.nullable(),
  last_drift_check_id: Uuid.nullable(),
  drift_differences: DriftDifferences.nullable().openapi({ description: 'What the latest drift check found; null before the first check and when the check had no baseline to compare with (drift_status unknown)' }),
  fastcgi_cache_enabled: z.boolean(), redis_cache_enabled: z.boolean(),
  basic_auth: z.object({ enabled: z.boolean(), username: z.string().nullable() })
    .openapi({ description: 'HTTP basic auth of the environment as last set (PUT …/basic-auth); the password is never returned' }),
  created_at: Timestamp, updated_at: Timestamp, state_version: z.number().int(),
}).openapi('Environment')

export const Backup = z.object({
  id: Uuid, environment_id: Uuid, backup_scope: z.enum(E.BACKUP_SCOPES), status: z.enum(E.BACKUP_STATUSES),
  storage_type: z.literal('s3'), storage_path: z.string(), retention_until: Timestamp, checksum: z.string().nullable(),
  size_bytes: z.number().int().nullable(), created_at: Timestamp, completed_at: Timestamp.nullable(),
}).openapi('Backup')

export const Release = z.object({
  id: Uuid, environment_id: Uuid, source_type: z.enum(E.RELEASE_SOURCE_TYPES),
  source_ref: z.string().openapi({ description: 'git <repo>#<ref>, artifact URL, or what built it (wordpress-core, clone:<env>, updates:<scope>, …)' }),
  health_status: z.enum(E.RELEASE_HEALTH_STATUSES).openapi({ description: 'unhealthy releases failed a health check and are never rolled back to' }),
  is_current: z.boolean(), created_at: Timestamp,
}).openapi('Release')

export const Domain = z.object({
  id: Uuid, environment_id: Uuid, hostname: z.string(), tls_status: z.enum(E.TLS_STATUSES), tls_issuer: z.literal('letsencrypt'),
  is_primary: z.boolean(), created_at: Timestamp, updated_at: Timestamp,
}).openapi('Domain')

export const Job = z.object({
  id: Uuid, job_type: z.enum(JOB_TYPES), status: z.enum(E.JOB_STATUSES), site_id: Uuid.nullable(),
  environment_id: Uuid.nullable(), node_id: Uuid.nullable(), parent_job_id: Uuid.nullable(),
  attempt_count: z.number().int(), max_attempts: z.number().int(), run_after: Timestamp.nullable(),
  locked_at: Timestamp.nullable(), locked_by: z.string().nullable(), started_at: Timestamp.nullable(),
  finished_at: Timestamp.nullable(), error_code: z.string().nullable(), error_message: z.string().nullable(),
  created_at: Timestamp, updated_at: Timestamp,
}).openapi('JobStatusResponse')

/** Task progress of a job's playbook (docs/architecture.md "Live job progress"). */
export const JobProgress = z.object({
  task: z.string().nullable().openapi({ description: 'The task running now, or the last one that ran; null before the first task' }),
  done: z.number().int().nonnegative().openapi({ description: 'Tasks of the playbook finished in the current (or last) attempt' }),
  total: z.number().int().nonnegative().openapi({ description: 'Tasks the playbook has, counted before its first task (grows when a dynamic include adds tasks)' }),
}).openapi('JobProgress')

export const JobDetail = Job.extend({
  progress: z.union([JobProgress, z.null()]).openapi({ description: 'null while the job has not started a playbook, or when its history was pruned' }),
}).openapi('JobDetail')

export const Node = z.object({
  id: Uuid, name: z.string(), hostname: z.string(), public_ip: z.string().nullable(), ssh_port: z.number().int(),
  ssh_user: z.string(), status: z.enum(E.NODE_STATUSES), is_local: z.boolean(), provider: z.literal('hetzner').nullable(),
  provider_server_id: z.string().nullable(), last_seen_at: Timestamp.nullable(), created_at: Timestamp,
  updated_at: Timestamp, state_version: z.number().int(),
}).openapi('Node')

export const Metrics = z.object({
  jobs_running: z.number().int().nonnegative(), jobs_queued: z.number().int().nonnegative(),
  nodes_active: z.number().int().nonnegative(), sites_total: z.number().int().nonnegative(),
}).openapi('Metrics')

export const SitePage = page(Site, 'SitePage')
export const EnvironmentPage = page(Environment, 'EnvironmentPage')
export const BackupPage = page(Backup, 'BackupPage')
export const DomainPage = page(Domain, 'DomainPage')
export const ReleasePage = page(Release, 'ReleasePage')
export const NodePage = page(Node, 'NodePage')

// ---- requests ----

export const LoginRequest = z.object({
  email: z.string().max(254).pipe(z.email()),
  password: z.string().min(1).max(1024),
}).strict().openapi('LoginRequest')

// ---- API tokens (runtime/auth/api-tokens.ts) ----

export const ApiToken = z.object({
  id: Uuid, name: z.string(), created_at: Timestamp, expires_at: Timestamp.nullable(),
  last_used_at: Timestamp.nullable().openapi({ description: 'Last authenticated use, recorded at most once a minute' }),
  revoked_at: Timestamp.nullable(),
}).openapi('ApiToken')
export const ApiTokenPage = page(ApiToken, 'ApiTokenPage')

export const CreateApiTokenRequest = z.object({
  name: Name.openapi({ example: 'ci-deploy' }),
  expires_at: z.iso.datetime({ offset: true }).nullable().optional()
    .openapi({ description: 'When the token stops working (ISO-8601, in the future); omitted or null: it works until revoked', example: '2027-01-31T00:00:00Z' }),
}).strict().openapi('CreateApiTokenRequest')

export const CreatedApiToken = ApiToken.extend({
  token: z.string().regex(/^plt_[0-9a-f]{64}$/).openapi({ description: 'The bearer token. Shown only in this response: only its SHA-256 is stored', example: `plt_${'0'.repeat(64)}` }),
}).openapi('CreatedApiToken')

export const CreateSiteRequest = z.object({
  name: Name,
  slug: Slug,
  node_id: Uuid.optional(),
}).strict().openapi('CreateSiteRequest')

export const CreateEnvironmentRequest = z.object({
  name: Name,
  slug: Slug.refine((s) => s !== 'production', 'production is reserved for the production environment'),
  type: z.enum(E.ENVIRONMENT_TYPES),
  source_environment_id: Uuid.nullable().optional(),
  promotion_preset: z.enum(E.PROMOTION_PRESETS),
}).strict().refine((body) => body.type === 'production' || !!body.source_environment_id, {
  message: 'staging and clone environments require source_environment_id', path: ['source_environment_id'],
}).openapi('CreateEnvironmentRequest')

export const ImportSiteRequest = z.object({
  archive_url: z.string().max(2048).refine(isSafeHttpUrl, 'must be an http(s) URL with a host and no credentials').refine(noTemplate, TEMPLATE_MESSAGE)
    .openapi({ description: 'Refused (400) when the host is a loopback, link-local, metadata, private or reserved address or a local name, unless the import_allowed_sources setting allows it; the node checks the address it connects to' }),
}).strict().openapi('ImportSiteRequest')

export const RollbackRequest = z.object({
  release_id: Uuid.openapi({ description: 'A release of this environment that is not unhealthy and not current' }),
}).strict().openapi('RollbackRequest')

export const DeployRequest = z.object({
  source_type: z.enum(E.RELEASE_SOURCE_TYPES),
  source_ref: z.string().min(1).max(2048).refine(noTemplate, TEMPLATE_MESSAGE),
}).strict().superRefine((body, ctx) => {
  const ok = body.source_type === 'git' ? isGitRef(body.source_ref) : isUploadRef(body.source_ref)
  if (!ok) {
    ctx.addIssue({
      code: 'custom', path: ['source_ref'],
      message: body.source_type === 'git'
        ? 'must be <repo>#<ref> with an https://, ssh:// or git@host:path repository'
        : 'must be an http(s) or s3://<bucket>/<key> URL of a .tar.gz artifact',
    })
  }
}).openapi('DeployRequest')

export const UpdatesRequest = z.object({ scope: z.enum(E.UPDATE_SCOPES) }).strict().openapi('UpdatesRequest')
export const RestoreRequest = z.object({ backup_id: Uuid }).strict().openapi('RestoreRequest')
export const PromoteRequest = z.object({ target_environment_id: Uuid }).strict().openapi('PromoteRequest')

export const CacheToggleRequest = z.object({
  fastcgi_cache_enabled: z.boolean().optional(),
  redis_cache_enabled: z.boolean().optional(),
}).strict().refine((body) => body.fastcgi_cache_enabled !== undefined || body.redis_cache_enabled !== undefined, {
  message: 'set at least one of fastcgi_cache_enabled, redis_cache_enabled',
}).openapi('CacheToggleRequest')

export const BasicAuthRequest = z.object({
  enabled: z.boolean(),
  username: z.string().regex(BASIC_AUTH_USER_RE, 'must be 1-64 letters, digits, dots, underscores, @ or hyphens').optional()
    .openapi({ description: 'Required with enabled: true unless credentials are stored already' }),
  password: z.string().min(8).max(128).refine((s) => !hasControlCharacters(s), 'must not contain control characters').optional()
    .openapi({ description: 'Write-only: stored as a SHA-512 crypt hash, never returned. Required when the username changes or none is stored' }),
}).strict().openapi('BasicAuthRequest')

export const CreateBackupRequest = z.object({ backup_scope: z.enum(E.BACKUP_SCOPES) }).strict().openapi('CreateBackupRequest')

export const AddDomainRequest = z.object({
  hostname: z.string().max(253).refine(isHostname, 'must be a lowercase fully qualified hostname (not an IP, no trailing dot)'),
}).strict().openapi('AddDomainRequest')

export const MagicLoginResponse = z.object({ login_url: z.string(), expires_at: Timestamp }).openapi('MagicLoginResponse')

const RegisterNode = z.object({
  name: z.string().regex(NODE_NAME_RE, 'must be a lowercase hostname label'),
  hostname: z.string().max(253).refine(isNodeHostname, 'must be a hostname or an IP address'),
  public_ip: z.string().refine(isIpv4, 'must be an IPv4 address'),
  ssh_port: z.number().int().min(1).max(65535).optional(),
  ssh_user: z.string().regex(SSH_USER_RE, 'must be a valid Linux user name').optional(),
}).strict().openapi('RegisterNodeRequest')

const AcquireNode = z.object({
  name: z.string().regex(NODE_NAME_RE, 'must be a lowercase hostname label'),
  provider: z.literal('hetzner'),
  server_type: z.string().regex(PROVIDER_FIELD_RE),
  location: z.string().regex(PROVIDER_FIELD_RE),
  image: z.string().regex(PROVIDER_FIELD_RE),
}).strict().openapi('AcquireNodeRequest')

export const CreateNodeRequest = z.union([RegisterNode, AcquireNode]).openapi('CreateNodeRequest')
export type CreateNodeInput = z.infer<typeof CreateNodeRequest>

export const JobsQuery = PageQuery.extend({
  status: z.enum(E.JOB_STATUSES).optional().openapi({ param: { name: 'status', in: 'query' } }),
  job_type: z.enum(JOB_TYPES).optional().openapi({ param: { name: 'job_type', in: 'query' } }),
  site_id: Uuid.optional().openapi({ param: { name: 'site_id', in: 'query' } }),
  environment_id: Uuid.optional().openapi({ param: { name: 'environment_id', in: 'query' } }),
  node_id: Uuid.optional().openapi({ param: { name: 'node_id', in: 'query' } }),
})

// ---- internal settings ----

const SecretFlag = z.object({ set: z.boolean() })
export const SettingsView = z.object({
  control_plane_domain: z.string().nullable(),
  preview_domain: z.string().nullable(),
  dns01_provider: z.enum(E.DNS01_PROVIDERS).nullable(),
  dns01_credentials_json: SecretFlag,
  backup_s3_endpoint: z.string().nullable(),
  backup_s3_region: z.string().nullable(),
  backup_s3_bucket: z.string().nullable(),
  backup_s3_access_key_id: z.string().nullable(),
  backup_s3_secret_access_key: SecretFlag,
  backup_retention_days: z.number().int(),
  hetzner_api_token: SecretFlag,
  hetzner_api_base_url: z.string().nullable(),
  import_allowed_sources: z.string().nullable().openapi({ description: 'Comma-separated host names and CIDR ranges import archives may come from although they are private or reserved addresses (loopback, link-local, metadata and the node\'s own addresses stay refused)' }),
  ssh_public_key: z.string(),
}).openapi('SettingsView')

export const SettingsPatch = z.object({
  control_plane_domain: z.string().nullable().optional(),
  preview_domain: z.string().nullable().optional(),
  dns01_provider: z.string().nullable().optional(),
  dns01_credentials_json: z.string().min(1).nullable().optional(),
  backup_s3_endpoint: z.string().nullable().optional(),
  backup_s3_region: z.string().nullable().optional(),
  backup_s3_bucket: z.string().nullable().optional(),
  backup_s3_access_key_id: z.string().nullable().optional(),
  backup_s3_secret_access_key: z.string().min(1).nullable().optional(),
  backup_retention_days: z.number().int().nullable().optional(),
  hetzner_api_token: z.string().min(1).nullable().optional(),
  hetzner_api_base_url: z.string().nullable().optional(),
  import_allowed_sources: z.string().nullable().optional(),
}).strict().openapi('SettingsPatch')
export type SettingsPatchInput = z.infer<typeof SettingsPatch>
