// Enum values of the data model, defined once and used by the store and the API schemas (job types come from runtime/jobs/registry.ts).
export const SITE_STATUSES = ['active', 'cloning', 'deploying', 'restoring', 'failed'] as const
export const ENVIRONMENT_TYPES = ['production', 'staging', 'clone'] as const
export const NODE_STATUSES = ['active', 'provisioning', 'unreachable', 'decommissioned'] as const
export const RELEASE_SOURCE_TYPES = ['git', 'upload'] as const
export const RELEASE_HEALTH_STATUSES = ['unknown', 'healthy', 'unhealthy'] as const
export const BACKUP_SCOPES = ['db', 'files', 'full'] as const
export const BACKUP_STATUSES = ['pending', 'running', 'completed', 'failed', 'expired'] as const
export const TLS_STATUSES = ['pending', 'active', 'failed', 'disabled'] as const
export const JOB_STATUSES = ['queued', 'running', 'succeeded', 'failed', 'cancelled'] as const
export const PROMOTION_PRESETS = ['content-protect', 'commerce-protect'] as const
export const DRIFT_STATUSES = ['unknown', 'clean', 'drifted'] as const
export const UPDATE_SCOPES = ['core', 'plugins', 'themes', 'all'] as const
/** Backup storage is configured when these four settings are all set. */
export const BACKUP_STORAGE_KEYS = ['backup_s3_endpoint', 'backup_s3_bucket', 'backup_s3_access_key_id', 'backup_s3_secret_access_key'] as const
export const DNS01_PROVIDERS = ['cloudflare', 'digitalocean', 'route53', 'rfc2136'] as const

export type SiteStatus = (typeof SITE_STATUSES)[number]
export type EnvironmentStatus = SiteStatus
export type EnvironmentType = (typeof ENVIRONMENT_TYPES)[number]
export type NodeStatus = (typeof NODE_STATUSES)[number]
export type JobStatus = (typeof JOB_STATUSES)[number]
export type BackupScope = (typeof BACKUP_SCOPES)[number]
export type BackupStatus = (typeof BACKUP_STATUSES)[number]
export type TlsStatus = (typeof TLS_STATUSES)[number]
export type PromotionPreset = (typeof PROMOTION_PRESETS)[number]
export type DriftStatus = (typeof DRIFT_STATUSES)[number]
