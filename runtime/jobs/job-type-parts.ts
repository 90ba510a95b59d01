// Parts several job type modules share: transition shorthands, the checksums result, and the release and drift
// success effects (their SQL is in runtime/store/job-type-effects.ts).
import { z } from 'zod'
import type { InStatement } from '@libsql/client'
import type { FailureChange, ResourceRef, StatusChange, SuccessContext } from './job-type.js'
import { readBaseline, readEnvironment, type EnvContext } from '../store/job-context.js'
import { insertFollowUp } from '../store/job-effects.js'
import { insertCurrentRelease, insertDriftRow } from '../store/job-type-effects.js'
import { releaseIdFor, releasePathFor } from './paths.js'
import { canonicalJson, compareDrift, parseChecksumsJson, type DriftResult } from '../drift/compare-drift.js'
import { protectedSet } from '../drift/presets.js'

/** The in-progress states of sites and environments. */
export const TRANSITIONAL = ['cloning', 'deploying', 'restoring'] as const

/** Start transition of a pre-existing active resource. */
export const move = (resource: ResourceRef, to: string): StatusChange => ({ resource, from: ['active'], to })
export const toActive = (resource: ResourceRef, from: readonly string[]): StatusChange => ({ resource, from, to: 'active' })
/** Failure of a site or environment in progress; `always` for rows created for the job or states set by a chain. */
export const fail = (resource: ResourceRef, always = false): FailureChange => ({ resource, from: TRANSITIONAL, to: 'failed', ...(always ? { always } : {}) })

/** Preconditions of jobs that move site status. */
export const SITE_MOVING = ['node_active', 'site_usable'] as const

/**
 * Declarations of the jobs that change what an existing environment serves (import, deploy, update, restore, promote):
 * site and environment move to `state` at start, fail on a final failure, and success hands over to a health_check.
 */
export function releaseChain(state: 'deploying' | 'restoring') {
  return {
    scope: 'site' as const,
    start: [move('site', state), move('environment', state)],
    retry: [], success: [],
    failure: [fail('environment'), fail('site')],
    followUps: ['health_check'],
  }
}

/** Result of drift-checksumming playbooks (env-create.yml, drift-check.yml). */
export const checksumsResult = z.object({
  db_checksums: z.record(z.string(), z.object({ rows: z.number().int().nonnegative(), checksum: z.union([z.string(), z.number(), z.null()]) })),
  file_checksums: z.record(z.string(), z.string()),
})

/** The origin of the release a job creates (releases.source_type/source_ref). */
export interface ReleaseSource {
  source_type: 'git' | 'upload'
  source_ref: string
  /**
   * 'healthy' when the playbook itself ends with the health checks (site_create, env_create: a new environment has no
   * previous release to roll back to, so there is no health_check follow-up); otherwise the follow-up decides.
   */
  health?: 'healthy'
}

/** The job's environment as the success effects read it, before the completion batch changes it. */
export async function effectEnvironment(ctx: SuccessContext): Promise<EnvContext | undefined> {
  return readEnvironment(ctx.db, ctx.job.environment_id)
}

/** Inserts the job's release and makes it current. */
export function currentRelease(ctx: SuccessContext, env: EnvContext, source: ReleaseSource, notes: string | null = null): InStatement[] {
  return insertCurrentRelease({
    id: releaseIdFor(ctx.job.id), environmentId: env.id, sourceType: source.source_type, sourceRef: source.source_ref,
    path: releasePathFor(env, ctx.job.created_at), health: source.health ?? 'unknown', notes,
  }, ctx.at, ctx.guard)
}

/**
 * Success of a job that changes what an existing environment serves: its release (none for a db-only restore) becomes
 * current and a health_check follow-up decides, with the release current before as the rollback target.
 */
export async function releaseWithHealthCheck(ctx: SuccessContext, source: ReleaseSource | null, rollbackBackupId: string | null, notes: string | null = null): Promise<InStatement[]> {
  const env = await effectEnvironment(ctx)
  if (!env) return []
  const out = source ? currentRelease(ctx, env, source, notes) : []
  out.push(insertFollowUp(ctx.job, ctx.followUpId, 'health_check', {
    release_id: source ? releaseIdFor(ctx.job.id) : env.current_release_id,
    // env is read before this batch switches current_release_id: it is the release current before the parent.
    previous_release_id: env.current_release_id,
    rollback_backup_id: rollbackBackupId,
  }, ctx.maxAttempts, ctx.at, ctx.guard))
  return out
}

/**
 * A drift_checks row from the playbook's checksums: a `baseline` (clone time) or a `check`, compared with the latest
 * baseline by runtime/drift/compare-drift.ts (clean, drifted with the differences, unknown without a usable baseline).
 */
export async function driftRow(ctx: SuccessContext, env: EnvContext, kind: 'baseline' | 'check'): Promise<InStatement[]> {
  if (!ctx.result) return []
  const db = canonicalJson(ctx.result.db_checksums)
  const files = canonicalJson(ctx.result.file_checksums)
  let status: DriftResult['status'] = 'clean'
  let differences: string | null = null
  if (kind === 'check') {
    const stored = await readBaseline(ctx.db, env.id)
    const baseline = stored ? { db: parseChecksumsJson(stored.db_checksums_json), files: parseChecksumsJson(stored.file_checksums_json) } : null
    const compared = compareDrift(baseline, { db: parseChecksumsJson(db), files: parseChecksumsJson(files) }, protectedSet(env.promotion_preset))
    status = compared.status
    differences = compared.differences ? JSON.stringify(compared.differences) : null
  }
  return insertDriftRow({
    environmentId: env.id, kind, promotionPreset: env.promotion_preset, status, dbChecksumsJson: db, fileChecksumsJson: files, differencesJson: differences,
  }, ctx.at, ctx.guard)
}
