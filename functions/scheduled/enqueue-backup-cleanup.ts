// Scheduled: one global backup_cleanup every 6 h (skipped without backup storage or an active node; de-duplicated).
import { defineSchedule } from '../../runtime/scheduler/define-schedule.js'

export default defineSchedule({
  name: 'backup-retention',
  run: (services, now) => services.jobs.enqueueBackupCleanupIfDue(now),
})
