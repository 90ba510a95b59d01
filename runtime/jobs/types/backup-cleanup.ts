// backup_cleanup: deletes the storage objects of completed backups past retention (scheduled every 6 h, no site).
import { defineJobType } from '../job-type.js'
import { storageVars } from '../../ansible/var-groups.js'
import { readExpiredBackups } from '../../store/job-context.js'
import { expireBackups } from '../../store/job-type-effects.js'
import { retentionNow } from '../../clock.js'

export default defineJobType({
  type: 'backup_cleanup', scope: 'global', playbook: 'backup-cleanup.yml', audit: 'node',
  preconditions: ['node_active', 'storage_configured'], start: [], retry: [], success: [], failure: [],
  async vars(ctx) {
    // The selection made now is what the playbook deletes and what success marks expired; "now" is the
    // retention clock (runtime/clock.ts), the system clock unless a test injected another.
    const expired = await readExpiredBackups(ctx.db, retentionNow().toISOString())
    ctx.carry.expiredBackupIds = expired.map((b) => b.id)
    return storageVars(ctx, expired.map((b) => b.storage_path))
  },
  async onSuccess(ctx) {
    const ids = ctx.carry.expiredBackupIds
    return expireBackups(Array.isArray(ids) ? ids.map(String) : [], ctx.guard)
  },
})
