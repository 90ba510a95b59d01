// cache_purge: empties an environment's page and object caches.
import { defineJobType } from '../job-type.js'
import { environmentVars, jobEnvironment } from '../../ansible/var-groups.js'

export default defineJobType({
  type: 'cache_purge', scope: 'site', playbook: 'cache-purge.yml', audit: 'environment',
  preconditions: ['node_active'], start: [], retry: [], success: [], failure: [],
  async vars(ctx) {
    return environmentVars(ctx, await jobEnvironment(ctx))
  },
})
