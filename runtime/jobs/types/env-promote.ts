// env_promote: promotes a staging/clone environment's code and settings into production, keeping production's
// protected data (promotion preset); gated by a fresh clean drift check and a fresh full backup of the target.
// Production as promoted becomes the source's new drift baseline: the next drift check compares against it.
import { defineJobType } from '../job-type.js'
import { checksumsResult, driftRow, releaseChain, releaseWithHealthCheck, SITE_MOVING } from '../job-type-parts.js'
import { driftVars, environmentVars, jobEnvironment, releaseVars, sourceEnvironment, sourceVars } from '../../ansible/var-groups.js'
import { str } from '../../ansible/vars-context.js'
import { readEnvironment } from '../../store/job-context.js'

export default defineJobType({
  type: 'env_promote', playbook: 'env-promote.yml', audit: 'environment',
  preconditions: [...SITE_MOVING, 'drift_gate', 'backup_gate'],
  result: checksumsResult,
  ...releaseChain('deploying'),
  async vars(ctx) {
    const env = await jobEnvironment(ctx)
    const source = await sourceEnvironment(ctx)
    // Promotion protects what the source's preset names.
    return {
      ...await environmentVars(ctx, env), ...releaseVars(ctx, env), ...sourceVars(source),
      ...await driftVars(ctx, env, source, { baseline: true }),
    }
  },
  async onSuccess(ctx) {
    const source = { source_type: 'upload' as const, source_ref: `promote:${String(ctx.payload.source_environment_id)}` }
    const sourceEnv = await readEnvironment(ctx.db, String(ctx.payload.source_environment_id))
    return [
      ...await releaseWithHealthCheck(ctx, source, str(ctx.payload.pre_backup_id) ?? str(ctx.payload.gate_backup_id)),
      ...sourceEnv ? await driftRow(ctx, sourceEnv, 'baseline') : [],
    ]
  },
})
