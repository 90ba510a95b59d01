// domain_remove: stops serving a domain (disabled at acceptance); a primary's role passes to the oldest other active domain.
import { defineJobType } from '../job-type.js'
import { domainVars, environmentVars, jobDomain, jobEnvironment } from '../../ansible/var-groups.js'
import { str } from '../../ansible/vars-context.js'
import { readNextPrimaryHostname } from '../../store/job-context.js'
import { deleteDisabledDomain } from '../../store/job-type-effects.js'

export default defineJobType({
  type: 'domain_remove', scope: 'site', playbook: 'domain-remove.yml', audit: 'domain',
  // The domain stays disabled on failure; DELETE may be repeated.
  preconditions: ['node_active'], start: [], retry: [], success: [], failure: [],
  async vars(ctx) {
    const env = await jobEnvironment(ctx)
    const domain = await jobDomain(ctx)
    const isPrimary = env.primary_domain_id === domain.id
    const next = isPrimary ? await readNextPrimaryHostname(ctx.db, env.id, domain.id) : null
    return { ...await environmentVars(ctx, env), ...domainVars(ctx.config, domain, isPrimary, next) }
  },
  async onSuccess(ctx) {
    const id = str(ctx.payload.domain_id)
    return id ? deleteDisabledDomain(id, ctx.at, ctx.guard) : []
  },
})
