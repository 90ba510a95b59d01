// Scheduled: a daily drift_check for every active non-production environment on an active node (de-duplicated).
import { defineSchedule } from '../../runtime/scheduler/define-schedule.js'

export default defineSchedule({
  name: 'drift-trigger',
  run: (services, now) => services.jobs.enqueueDriftChecksIfDue(now),
})
