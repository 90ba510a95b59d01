// env_cache_toggle: switches the FastCGI page cache and/or the Redis object cache of an environment.
import { defineJobType } from '../job-type.js'
import { environmentVars, jobEnvironment } from '../../ansible/var-groups.js'
import { setCacheFlags } from '../../store/job-type-effects.js'

const flag = (value: unknown): boolean | undefined => typeof value === 'boolean' ? value : undefined

export default defineJobType({
  type: 'env_cache_toggle', scope: 'site', playbook: 'env-cache-toggle.yml', audit: 'environment',
  preconditions: ['node_active'], start: [], retry: [], success: [], failure: [],
  async vars(ctx) {
    // The playbook applies the payload's flags; the row keeps the last applied ones until the job succeeds.
    return environmentVars(ctx, await jobEnvironment(ctx), { fastcgi: flag(ctx.payload.fastcgi_cache_enabled), redis: flag(ctx.payload.redis_cache_enabled) })
  },
  async onSuccess(ctx) {
    return setCacheFlags(ctx.job.environment_id, flag(ctx.payload.fastcgi_cache_enabled) ?? null, flag(ctx.payload.redis_cache_enabled) ?? null, ctx.at, ctx.guard)
  },
})
