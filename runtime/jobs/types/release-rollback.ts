// release_rollback: switches an environment back to an earlier release after a failed health check, restoring the
// database from the rollback backup when the failed job had one.
import { defineJobType } from '../job-type.js'
import { fail, TRANSITIONAL, toActive } from '../job-type-parts.js'
import { environmentVars, jobEnvironment, releaseVars, storageVars } from '../../ansible/var-groups.js'
import { str, VarsError } from '../../ansible/vars-context.js'
import { readRelease } from '../../store/job-context.js'
import { rollBackCurrentRelease } from '../../store/job-type-effects.js'

export default defineJobType({
  type: 'release_rollback', scope: 'site', playbook: 'release-rollback.yml', audit: 'environment',
  preconditions: ['node_active', 'storage_for_db_restore'], start: [], retry: [],
  success: [toActive('environment', TRANSITIONAL), toActive('site', TRANSITIONAL)],
  failure: [fail('environment', true), fail('site', true)],
  async vars(ctx) {
    const env = await jobEnvironment(ctx)
    const to = await readRelease(ctx.db, str(ctx.payload.to_release_id))
    if (!to || to.environment_id !== env.id) throw new VarsError(`rollback target release ${String(ctx.payload.to_release_id)} does not belong to environment ${env.id}`)
    return { ...await environmentVars(ctx, env), ...releaseVars(ctx, env, to), ...await storageVars(ctx) }
  },
  async onSuccess(ctx) {
    const to = str(ctx.payload.to_release_id)
    return to ? rollBackCurrentRelease(ctx.job.environment_id, to, ctx.at, ctx.guard) : []
  },
})
