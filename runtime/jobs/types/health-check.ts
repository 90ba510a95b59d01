// health_check: the follow-up of every job that changes what an existing environment serves. Success marks the
// release healthy and ends the chain; HEALTH_CHECK_FAILED rolls back to the previous release (release_rollback).
import { z } from 'zod'
import { defineJobType } from '../job-type.js'
import { fail, toActive } from '../job-type-parts.js'
import { environmentVars, jobEnvironment } from '../../ansible/var-groups.js'
import { str } from '../../ansible/vars-context.js'
import { insertFollowUp, statusChange } from '../../store/job-effects.js'
import { setReleaseHealth } from '../../store/job-type-effects.js'

export default defineJobType({
  type: 'health_check', scope: 'site', playbook: 'health-check.yml', audit: 'environment',
  preconditions: ['node_active'], start: [], retry: [],
  success: [toActive('environment', ['deploying', 'restoring']), toActive('site', ['deploying', 'restoring'])],
  failure: [fail('environment', true), fail('site', true)],
  followUps: ['release_rollback'],
  result: z.object({ http_status: z.number().int(), installed: z.boolean(), db_ok: z.boolean() }),
  async vars(ctx) {
    const env = await environmentVars(ctx, await jobEnvironment(ctx))
    const url = String(env.canonical_url ?? '')
    return {
      ...env,
      health_url: `${url.replace(/\/$/, '')}/?pressluft_health=${ctx.job.id}`, health_host: url ? new URL(url).hostname : null,
      health_timeout_seconds: ctx.config.healthCheck.timeoutSeconds, health_retries: ctx.config.healthCheck.retries,
    }
  },
  async onSuccess(ctx) {
    const id = str(ctx.payload.release_id)
    return id ? setReleaseHealth(id, 'healthy', ctx.guard) : []
  },
  onFailure(ctx) {
    if (ctx.code !== 'HEALTH_CHECK_FAILED') return null
    const { job, payload, at, guard } = ctx
    const releaseId = str(payload.release_id)
    const previous = str(payload.previous_release_id)
    const out = releaseId ? setReleaseHealth(releaseId, 'unhealthy', guard) : []
    if (previous) {
      out.push(insertFollowUp(job, ctx.followUpId, 'release_rollback', {
        failed_release_id: releaseId, to_release_id: previous, restore_db_backup_id: str(payload.rollback_backup_id),
      }, ctx.maxAttempts, at, guard))
    } else {
      // Nothing to roll back to: the chain fails.
      for (const resource of ['environment', 'site'] as const) out.push(...statusChange(job, fail(resource), at, guard))
    }
    return out
  },
})
