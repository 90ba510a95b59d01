// env_create: clones an environment (staging or clone) from a source environment of the same site; the new
// environment row was created (cloning) at acceptance, the site moves to cloning at start.
import { defineJobType } from '../job-type.js'
import { checksumsResult, currentRelease, driftRow, effectEnvironment, fail, move, SITE_MOVING, toActive } from '../job-type-parts.js'
import { driftVars, environmentVars, jobEnvironment, releaseVars, sourceEnvironment, sourceVars } from '../../ansible/var-groups.js'

export default defineJobType({
  type: 'env_create', scope: 'site', playbook: 'env-create.yml', audit: 'environment',
  preconditions: SITE_MOVING,
  start: [move('site', 'cloning')], retry: [],
  success: [toActive('environment', ['cloning']), toActive('site', ['cloning'])],
  failure: [fail('environment', true), fail('site')],
  result: checksumsResult,
  async vars(ctx) {
    const env = await jobEnvironment(ctx)
    const source = await sourceEnvironment(ctx)
    // The clone records the baseline, so it gets none; checksums use the new environment's preset.
    return {
      ...await environmentVars(ctx, env), ...releaseVars(ctx, env), ...sourceVars(source),
      ...await driftVars(ctx, env, env, { baseline: false }),
    }
  },
  async onSuccess(ctx) {
    const env = await effectEnvironment(ctx)
    if (!env) return []
    return [
      ...currentRelease(ctx, env, { source_type: 'upload', source_ref: `clone:${String(ctx.payload.source_environment_id)}`, health: 'healthy' }),
      ...await driftRow(ctx, env, 'baseline'),
    ]
  },
})
