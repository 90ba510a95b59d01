// Per-job runner: one attempt of a claimed job through its registry playbook; the scheduler commits the outcome.
import { defineJobRunner } from '../../runtime/jobs/job-runner.js'
import { runJobAttempt } from '../../runtime/jobs/run-attempt.js'

export default defineJobRunner(async (job, ctx) => {
  const outcome = await runJobAttempt(job, ctx)
  ctx.log.info({ outcome: outcome.ok ? 'succeeded' : outcome.code }, 'attempt outcome')
  return outcome
})
