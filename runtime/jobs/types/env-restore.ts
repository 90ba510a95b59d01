// env_restore: restores a backup (db, files or full) into an environment (after a pre-operation backup).
import { defineJobType } from '../job-type.js'
import { releaseChain, releaseWithHealthCheck, SITE_MOVING } from '../job-type-parts.js'
import { environmentVars, jobEnvironment, releaseVars, storageVars } from '../../ansible/var-groups.js'
import { str } from '../../ansible/vars-context.js'
import { readBackup } from '../../store/job-context.js'

export default defineJobType({
  type: 'env_restore', playbook: 'env-restore.yml', audit: 'environment',
  preconditions: [...SITE_MOVING, 'pre_backup_usable', 'storage_configured'],
  ...releaseChain('restoring'),
  async vars(ctx) {
    const env = await jobEnvironment(ctx)
    return { ...await environmentVars(ctx, env), ...releaseVars(ctx, env), ...await storageVars(ctx) }
  },
  async onSuccess(ctx) {
    const backupId = str(ctx.payload.backup_id)
    const backup = backupId ? await readBackup(ctx.db, backupId) : undefined
    // A db-only restore keeps the current release.
    const source = backup?.backup_scope === 'db' ? null : { source_type: 'upload' as const, source_ref: `backup:${String(ctx.payload.backup_id)}` }
    return releaseWithHealthCheck(ctx, source, str(ctx.payload.pre_backup_id))
  },
})
