// env_deploy: deploys a git ref or an uploaded artifact (https:// or s3://) as a new release of an environment.
import { defineJobType } from '../job-type.js'
import { releaseChain, releaseWithHealthCheck, SITE_MOVING } from '../job-type-parts.js'
import { environmentVars, jobEnvironment, releaseVars, s3Vars } from '../../ansible/var-groups.js'
import { str } from '../../ansible/vars-context.js'
import { allowedSourceEntries } from '../../contracts/archive-url.js'

export default defineJobType({
  type: 'env_deploy', playbook: 'env-deploy.yml', audit: 'environment',
  preconditions: [...SITE_MOVING, 'storage_for_s3_source'],
  ...releaseChain('deploying'),
  async vars(ctx) {
    const env = await jobEnvironment(ctx)
    const ref = str(ctx.payload.source_ref)
    return {
      ...await environmentVars(ctx, env), ...releaseVars(ctx, env),
      // An s3:// artifact is fetched with the backup storage credentials.
      ...ref?.startsWith('s3://') ? await s3Vars(ctx) : {},
      release_source_type: str(ctx.payload.source_type), release_source_ref: ref,
      // https artifacts and repositories are guarded like import archives: the same allow-list for internal addresses.
      import_allowed_sources: allowedSourceEntries(ctx.setting('import_allowed_sources')),
    }
  },
  async onSuccess(ctx) {
    // A deploy takes no pre-operation backup: a failed health check rolls back the files only.
    const source = { source_type: ctx.payload.source_type === 'git' ? 'git' as const : 'upload' as const, source_ref: String(ctx.payload.source_ref) }
    return releaseWithHealthCheck(ctx, source, null)
  },
})
