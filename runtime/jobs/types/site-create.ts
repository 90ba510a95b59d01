// site_create: builds a new site's production environment with WordPress core; the site and environment rows were
// created (deploying) when the request was accepted.
import { defineJobType } from '../job-type.js'
import { currentRelease, effectEnvironment, fail, toActive } from '../job-type-parts.js'
import { environmentVars, jobEnvironment, randomString, releaseVars } from '../../ansible/var-groups.js'
import { readUserEmail } from '../../store/job-context.js'

export default defineJobType({
  type: 'site_create', scope: 'site', playbook: 'site-create.yml', audit: 'site',
  preconditions: ['node_active'],
  start: [], retry: [],
  success: [toActive('environment', ['deploying']), toActive('site', ['deploying'])],
  failure: [fail('environment', true), fail('site', true)],
  async vars(ctx) {
    const env = await jobEnvironment(ctx)
    return {
      ...await environmentVars(ctx, env), ...releaseVars(ctx, env),
      wp_title: env.site_name, wp_admin_user: 'pressluft',
      wp_admin_email: await readUserEmail(ctx.db, ctx.job.requested_by) ?? ctx.config.adminEmail,
      wp_admin_password: await ctx.secret(`env/${ctx.job.environment_id}/wp_admin_password`, () => randomString(24)),
    }
  },
  async onSuccess(ctx) {
    const env = await effectEnvironment(ctx)
    // The playbook ends with the health checks and there is no earlier release to roll back to.
    return env ? currentRelease(ctx, env, { source_type: 'upload', source_ref: 'wordpress-core', health: 'healthy' }) : []
  },
})
