// env_update: updates WordPress core, plugins and/or themes of an environment as a new release (after a pre-operation backup).
import { defineJobType } from '../job-type.js'
import { releaseChain, releaseWithHealthCheck, SITE_MOVING } from '../job-type-parts.js'
import { environmentVars, jobEnvironment, releaseVars } from '../../ansible/var-groups.js'
import { str } from '../../ansible/vars-context.js'

export default defineJobType({
  type: 'env_update', playbook: 'env-update.yml', audit: 'environment',
  preconditions: [...SITE_MOVING, 'pre_backup_usable'],
  ...releaseChain('deploying'),
  async vars(ctx) {
    const env = await jobEnvironment(ctx)
    return {
      ...await environmentVars(ctx, env), ...releaseVars(ctx, env), update_scope: str(ctx.payload.scope),
      // Where WordPress's update checks go: '' = wordpress.org (PRESSLUFT_WP_UPDATE_SOURCE).
      wp_update_source: ctx.config.wpUpdateSource,
    }
  },
  async onSuccess(ctx) {
    return releaseWithHealthCheck(ctx, { source_type: 'upload', source_ref: `updates:${String(ctx.payload.scope)}` }, str(ctx.payload.pre_backup_id))
  },
})
