// domain_add: serves an environment under a custom domain with an ACME certificate; the domain row was created
// (pending) at acceptance.
import { defineJobType } from '../job-type.js'
import { domainVars, environmentVars, jobDomain, jobEnvironment } from '../../ansible/var-groups.js'
import { str } from '../../ansible/vars-context.js'
import { activateDomain } from '../../store/job-type-effects.js'

export default defineJobType({
  type: 'domain_add', scope: 'site', playbook: 'domain-add.yml', audit: 'domain',
  preconditions: ['node_active'], start: [], retry: [],
  success: [],
  failure: [{ resource: 'domain', from: ['pending'], to: 'failed', always: true }],
  async vars(ctx) {
    const env = await jobEnvironment(ctx)
    const domain = await jobDomain(ctx)
    // The first active domain of an environment becomes its primary.
    const isPrimary = env.primary_domain_id === null || env.primary_domain_id === domain.id
    return { ...await environmentVars(ctx, env), ...domainVars(ctx.config, domain, isPrimary, null) }
  },
  async onSuccess(ctx) {
    const id = str(ctx.payload.domain_id)
    return id ? activateDomain(id, ctx.at, ctx.guard) : []
  },
})
