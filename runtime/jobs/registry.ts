// The job registry as data (spec/jobs.md): per job type its scope, playbook, start transition, effects, follow-ups and result.
import { z } from 'zod'
import type { JobType } from '../contracts/enums.js'

/** A resource a job refers to: its site, environment and node columns, or the backup/domain id of its payload. */
export type ResourceRef = 'site' | 'environment' | 'node' | 'backup' | 'domain'

export interface StatusChange {
  resource: ResourceRef
  from: readonly string[]
  to: string
}

export interface FailureChange extends StatusChange {
  /**
   * Applied on every final failure and cancel, even before the job started: rows created for the job at acceptance
   * (new site/env, pending backup/domain, provisioning node) and the transitional state of a chain (follow-ups).
   * Without it the change applies only when the job had started (its start transition moved the resource).
   */
  always?: boolean
}

/** Effects that need more than a status change; implemented in runtime/store/job-effects.ts. */
export type SuccessEffect =
  | 'release_current' // insert the job's release and make it current
  | 'baseline_drift_row' // env_create: production's protected-data checksums at clone time
  | 'drift_check_row' // drift_check: compare with the baseline, record the check and the env drift fields
  | 'backup_completed' // checksum, size, completed_at
  | 'domain_active' // active, and primary if the env had none
  | 'domain_removed' // row deleted, primary reassigned or cleared
  | 'cache_flags' // env cache flags = the applied payload
  | 'release_healthy'
  | 'rollback_current' // current_release_id = to_release_id
  | 'backups_expired' // the backups whose objects backup_cleanup deleted
  | 'health_check_follow_up'

export type Precondition =
  | 'node_active'
  | 'site_usable' // SITE_NOT_ACTIVE when a job that moves site status finds the site failed
  | 'pre_backup_usable'
  | 'drift_gate'
  | 'backup_gate'
  | 'storage_configured'
  | 'storage_for_s3_source' // env_deploy from an s3:// artifact
  | 'storage_for_db_restore' // release_rollback with restore_db_backup_id
  | 'provider_configured' // node_provision in acquire mode

export type VarGroup = 'environment' | 'release' | 'source' | 'drift' | 'storage' | 'domain' | 'node_provision'

export interface ReleaseSource {
  source_type: 'git' | 'upload'
  source_ref: string
  /**
   * 'healthy' when the playbook itself ends with the health checks (site_create, env_create: a new environment has no
   * previous release to roll back to, so there is no health_check follow-up); otherwise the follow-up decides.
   */
  health?: 'healthy'
}

export interface JobTypeSpec {
  scope: 'site' | 'global'
  /** File under ansible/playbooks/. */
  playbook: string
  varGroups: readonly VarGroup[]
  /** Resource of the completion audit row (`<job_type>` action). */
  audit: ResourceRef
  preconditions: readonly Precondition[]
  /** Pre-existing resources moved at start; a precondition failure returns them to `from[0]`. */
  start: readonly StatusChange[]
  /** Applied when a failed attempt is requeued. */
  retry: readonly StatusChange[]
  success: readonly (StatusChange | SuccessEffect)[]
  failure: readonly FailureChange[]
  /** health_check decides between rollback and failing the chain by error code. */
  healthCheckFailure?: true
  /** For release-creating jobs: the release row's origin (spec/data-model.md); null = no new release (db-only restore). */
  release?: (payload: Record<string, unknown>, jobId: string, backupScope: string | null) => ReleaseSource | null
  /** Shape of the result file of data-returning playbooks. */
  result?: z.ZodType<Record<string, unknown>>
}

const TRANSITIONAL = ['cloning', 'deploying', 'restoring'] as const
const move = (resource: ResourceRef, to: string): StatusChange => ({ resource, from: ['active'], to })
const toActive = (resource: ResourceRef, from: readonly string[]): StatusChange => ({ resource, from, to: 'active' })
const fail = (resource: ResourceRef, always = false): FailureChange => ({ resource, from: TRANSITIONAL, to: 'failed', ...(always ? { always } : {}) })

const checksumsResult = z.object({
  db_checksums: z.record(z.string(), z.object({ rows: z.number().int().nonnegative(), checksum: z.union([z.string(), z.number(), z.null()]) })),
  file_checksums: z.record(z.string(), z.string()),
})

const SITE_MOVING: readonly Precondition[] = ['node_active', 'site_usable']

export const jobRegistry: Record<JobType, JobTypeSpec> = {
  node_provision: {
    scope: 'global', playbook: 'node-provision.yml', varGroups: ['node_provision'], audit: 'node',
    preconditions: ['provider_configured'],
    start: [], retry: [],
    success: [{ resource: 'node', from: ['provisioning'], to: 'active' }],
    failure: [{ resource: 'node', from: ['provisioning'], to: 'unreachable', always: true }],
  },
  site_create: {
    scope: 'site', playbook: 'site-create.yml', varGroups: ['environment', 'release'], audit: 'site',
    preconditions: ['node_active'],
    start: [], retry: [],
    success: ['release_current', toActive('environment', ['deploying']), toActive('site', ['deploying'])],
    failure: [fail('environment', true), fail('site', true)],
    release: () => ({ source_type: 'upload', source_ref: 'wordpress-core', health: 'healthy' }),
  },
  site_import: {
    scope: 'site', playbook: 'site-import.yml', varGroups: ['environment', 'release', 'storage'], audit: 'site',
    preconditions: [...SITE_MOVING, 'pre_backup_usable', 'storage_configured'],
    start: [move('site', 'restoring'), move('environment', 'restoring')], retry: [],
    success: ['release_current', 'health_check_follow_up'],
    failure: [fail('environment'), fail('site')],
    release: (_payload, jobId) => ({ source_type: 'upload', source_ref: `import:${jobId}` }),
    result: z.object({ source_url: z.string(), table_prefix: z.string() }),
  },
  env_create: {
    scope: 'site', playbook: 'env-create.yml', varGroups: ['environment', 'release', 'source', 'drift'], audit: 'environment',
    preconditions: SITE_MOVING,
    start: [move('site', 'cloning')], retry: [],
    success: ['release_current', 'baseline_drift_row', toActive('environment', ['cloning']), toActive('site', ['cloning'])],
    failure: [fail('environment', true), fail('site')],
    release: (payload) => ({ source_type: 'upload', source_ref: `clone:${String(payload.source_environment_id)}`, health: 'healthy' }),
    result: checksumsResult,
  },
  env_deploy: {
    scope: 'site', playbook: 'env-deploy.yml', varGroups: ['environment', 'release'], audit: 'environment',
    preconditions: [...SITE_MOVING, 'storage_for_s3_source'],
    start: [move('site', 'deploying'), move('environment', 'deploying')], retry: [],
    success: ['release_current', 'health_check_follow_up'],
    failure: [fail('environment'), fail('site')],
    release: (payload) => ({ source_type: payload.source_type === 'git' ? 'git' : 'upload', source_ref: String(payload.source_ref) }),
  },
  env_update: {
    scope: 'site', playbook: 'env-update.yml', varGroups: ['environment', 'release'], audit: 'environment',
    preconditions: [...SITE_MOVING, 'pre_backup_usable'],
    start: [move('site', 'deploying'), move('environment', 'deploying')], retry: [],
    success: ['release_current', 'health_check_follow_up'],
    failure: [fail('environment'), fail('site')],
    release: (payload) => ({ source_type: 'upload', source_ref: `updates:${String(payload.scope)}` }),
  },
  env_restore: {
    scope: 'site', playbook: 'env-restore.yml', varGroups: ['environment', 'release', 'storage'], audit: 'environment',
    preconditions: [...SITE_MOVING, 'pre_backup_usable', 'storage_configured'],
    start: [move('site', 'restoring'), move('environment', 'restoring')], retry: [],
    success: ['release_current', 'health_check_follow_up'],
    failure: [fail('environment'), fail('site')],
    // A db-only restore keeps the current release.
    release: (payload, _jobId, backupScope) => backupScope === 'db' ? null : { source_type: 'upload', source_ref: `backup:${String(payload.backup_id)}` },
  },
  env_promote: {
    scope: 'site', playbook: 'env-promote.yml', varGroups: ['environment', 'release', 'source', 'drift'], audit: 'environment',
    preconditions: [...SITE_MOVING, 'drift_gate', 'backup_gate'],
    start: [move('site', 'deploying'), move('environment', 'deploying')], retry: [],
    success: ['release_current', 'health_check_follow_up'],
    failure: [fail('environment'), fail('site')],
    release: (payload) => ({ source_type: 'upload', source_ref: `promote:${String(payload.source_environment_id)}` }),
  },
  env_cache_toggle: {
    scope: 'site', playbook: 'env-cache-toggle.yml', varGroups: ['environment'], audit: 'environment',
    preconditions: ['node_active'], start: [], retry: [], success: ['cache_flags'], failure: [],
  },
  cache_purge: {
    scope: 'site', playbook: 'cache-purge.yml', varGroups: ['environment'], audit: 'environment',
    preconditions: ['node_active'], start: [], retry: [], success: [], failure: [],
  },
  backup_create: {
    scope: 'site', playbook: 'backup-create.yml', varGroups: ['environment', 'storage'], audit: 'backup',
    preconditions: ['node_active', 'storage_configured'],
    start: [{ resource: 'backup', from: ['pending'], to: 'running' }],
    retry: [{ resource: 'backup', from: ['running'], to: 'pending' }],
    success: ['backup_completed'],
    failure: [{ resource: 'backup', from: ['pending', 'running'], to: 'failed', always: true }],
    result: z.object({ checksum: z.string().regex(/^sha256:[0-9a-f]{64}$/), size_bytes: z.number().int().nonnegative() }),
  },
  domain_add: {
    scope: 'site', playbook: 'domain-add.yml', varGroups: ['environment', 'domain'], audit: 'domain',
    preconditions: ['node_active'], start: [], retry: [],
    success: ['domain_active'],
    failure: [{ resource: 'domain', from: ['pending'], to: 'failed', always: true }],
  },
  domain_remove: {
    scope: 'site', playbook: 'domain-remove.yml', varGroups: ['environment', 'domain'], audit: 'domain',
    // The domain stays disabled on failure; DELETE may be repeated.
    preconditions: ['node_active'], start: [], retry: [], success: ['domain_removed'], failure: [],
  },
  drift_check: {
    scope: 'site', playbook: 'drift-check.yml', varGroups: ['environment', 'drift'], audit: 'environment',
    preconditions: ['node_active'], start: [], retry: [], success: ['drift_check_row'], failure: [],
    result: checksumsResult,
  },
  health_check: {
    scope: 'site', playbook: 'health-check.yml', varGroups: ['environment'], audit: 'environment',
    preconditions: ['node_active'], start: [], retry: [],
    success: ['release_healthy', toActive('environment', ['deploying', 'restoring']), toActive('site', ['deploying', 'restoring'])],
    failure: [fail('environment', true), fail('site', true)],
    healthCheckFailure: true,
    result: z.object({ http_status: z.number().int(), installed: z.boolean(), db_ok: z.boolean() }),
  },
  release_rollback: {
    scope: 'site', playbook: 'release-rollback.yml', varGroups: ['environment', 'release', 'storage'], audit: 'environment',
    preconditions: ['node_active', 'storage_for_db_restore'], start: [], retry: [],
    success: ['rollback_current', toActive('environment', TRANSITIONAL), toActive('site', TRANSITIONAL)],
    failure: [fail('environment', true), fail('site', true)],
  },
  backup_cleanup: {
    scope: 'global', playbook: 'backup-cleanup.yml', varGroups: ['storage'], audit: 'node',
    preconditions: ['node_active', 'storage_configured'], start: [], retry: [], success: ['backups_expired'], failure: [],
  },
}

/** Jobs whose success enqueues a health_check follow-up; their failure fails the chain. */
export function hasFollowUp(type: JobType): boolean {
  return jobRegistry[type].success.includes('health_check_follow_up')
}

export function playbookPath(type: JobType): string {
  return `ansible/playbooks/${jobRegistry[type].playbook}`
}

/** Per-attempt budget: PRESSLUFT_JOB_TIMEOUT_SECONDS or the per-type override of hono.config.ts. */
export function jobTimeoutSeconds(type: JobType, config: { jobTimeoutSeconds: number; jobTimeoutOverrides: Partial<Record<string, number>> }): number {
  return config.jobTimeoutOverrides[type] ?? config.jobTimeoutSeconds
}
