// site_import: replaces a site's production content with an uploaded archive (after a pre-operation backup).
import { z } from 'zod'
import { defineJobType } from '../job-type.js'
import { releaseChain, releaseWithHealthCheck, SITE_MOVING } from '../job-type-parts.js'
import { environmentVars, jobEnvironment, releaseVars, storageVars } from '../../ansible/var-groups.js'
import { str } from '../../ansible/vars-context.js'
import { allowedSourceEntries } from '../../contracts/archive-url.js'

export default defineJobType({
  type: 'site_import', playbook: 'site-import.yml', audit: 'site',
  preconditions: [...SITE_MOVING, 'pre_backup_usable', 'storage_configured'],
  ...releaseChain('restoring'),
  result: z.object({ source_url: z.string(), table_prefix: z.string() }),
  async vars(ctx) {
    const env = await jobEnvironment(ctx)
    const { importLimits } = ctx.config
    return {
      ...await environmentVars(ctx, env), ...releaseVars(ctx, env), ...await storageVars(ctx),
      archive_url: str(ctx.payload.archive_url), import_max_archive_bytes: importLimits.maxArchiveBytes,
      import_max_unpacked_bytes: importLimits.maxUnpackedBytes, import_max_entries: importLimits.maxEntries,
      // The operator's allow-list (setting import_allowed_sources, validated when saved), applied by pl-fetch.py.
      import_allowed_sources: allowedSourceEntries(ctx.setting('import_allowed_sources')),
    }
  },
  async onSuccess(ctx) {
    const notes = ctx.result ? `imported from ${String(ctx.result.source_url)} (table prefix ${String(ctx.result.table_prefix)})` : null
    return releaseWithHealthCheck(ctx, { source_type: 'upload', source_ref: `import:${ctx.job.id}` }, str(ctx.payload.pre_backup_id), notes)
  },
})
