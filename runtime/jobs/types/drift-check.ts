// drift_check: checksums production's protected data and compares it with the baseline recorded when the
// environment was cloned (daily for non-production environments, and on request).
import { defineJobType } from '../job-type.js'
import { checksumsResult, driftRow, effectEnvironment } from '../job-type-parts.js'
import { driftVars, environmentVars, jobEnvironment } from '../../ansible/var-groups.js'

export default defineJobType({
  type: 'drift_check', scope: 'site', playbook: 'drift-check.yml', audit: 'environment',
  preconditions: ['node_active'], start: [], retry: [], success: [], failure: [],
  result: checksumsResult,
  async vars(ctx) {
    const env = await jobEnvironment(ctx)
    return { ...await environmentVars(ctx, env), ...await driftVars(ctx, env, env, { baseline: true }) }
  },
  async onSuccess(ctx) {
    const env = await effectEnvironment(ctx)
    return env ? driftRow(ctx, env, 'check') : []
  },
})
