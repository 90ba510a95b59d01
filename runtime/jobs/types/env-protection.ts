// env_protection: applies an environment's staging protection on its node (docs/decisions.md "Staging protection"):
// re-renders its server blocks with the basic auth setting the row holds (and X-Robots-Tag noindex unless it is
// production), and keeps blog_public = 0 on a non-production environment. Accepted by PUT …/basic-auth.
import { defineJobType } from '../job-type.js'
import { environmentVars, jobEnvironment } from '../../ansible/var-groups.js'

export default defineJobType({
  type: 'env_protection', scope: 'site', playbook: 'env-protection.yml', audit: 'environment',
  preconditions: ['node_active'], start: [], retry: [], success: [], failure: [],
  async vars(ctx) {
    return environmentVars(ctx, await jobEnvironment(ctx))
  },
})
