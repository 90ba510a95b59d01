// Scheduled: one global backup_cleanup every 6 h (skipped without backup storage or an active node; de-duplicated).
// Due is judged by the retention clock (runtime/clock.ts): the system clock unless a test injected another.
import { defineSchedule } from '../../runtime/scheduler/define-schedule.js'
import { retentionNow } from '../../runtime/clock.js'

export default defineSchedule({
  name: 'backup-retention',
  run: (services) => services.jobs.enqueueBackupCleanupIfDue(retentionNow()),
})
