// The per-job runner: one attempt of a claimed job (docs/architecture.md "Walk of one request"): run dir, the type's
// preparation (provider acquisition), inventory + vars, playbook, outcome, cleanup. The scheduler commits the outcome.
import fs from 'node:fs'
import path from 'node:path'
import type { JobRow } from '../store/jobs.js'
import { jobFailure as failure, type JobOutcome, type RunnerContext } from './job-runner.js'
import type { JobTypeModule } from './job-type.js'
import { jobTypeOf, jobTimeoutSeconds } from './registry.js'
import { classifyPlaybookExit } from './outcomes.js'
import { AbortReason } from './abort-reason.js'
import { createRunDir, removeRunDir, writePrivateFile, type RunDir } from '../ansible/run-dir.js'
import { buildExtraVars, VarsError } from '../ansible/extra-vars.js'
import { renderInventory, InventoryError } from '../ansible/inventory.js'
import { createRedactor, type Redact } from '../ansible/redactor.js'
import { runPlaybook } from '../ansible/playbook-process.js'
import { ProviderError } from '../providers/hetzner.js'
import { PRIVATE_KEY_SECRET } from '../ssh/control-plane-key.js'

const DEFAULT_KILL_GRACE_MS = 15_000

/** Ends leftover SSH control masters of the attempt (ControlPersist=60s would otherwise outlive the run dir). */
async function closeControlMasters(run: RunDir): Promise<void> {
  let sockets: string[] = []
  try { sockets = fs.readdirSync(run.controlPathDir) } catch { return }
  const { execa } = await import('execa') // loaded on first use, see docs/performance.md ("API", memory)
  await Promise.all(sockets.map((name) => execa('ssh', ['-o', `ControlPath=${path.join(run.controlPathDir, name)}`, '-O', 'exit', 'pressluft-control-master'],
    { reject: false, timeout: 5000, stdin: 'ignore' })))
}

export async function runJobAttempt(job: JobRow, ctx: RunnerContext): Promise<JobOutcome> {
  const { services, signal, log, ansible } = ctx
  const { config } = services
  const spec = jobTypeOf(job.job_type)
  const playbooksDir = ansible.playbooksDir ?? path.join(config.repoRoot, 'ansible', 'playbooks')
  const playbook = path.join(playbooksDir, spec.playbook)
  // Never a placeholder: a job type without its playbook file fails clearly and is not retried.
  if (!fs.existsSync(playbook)) {
    const where = path.relative(config.repoRoot, playbooksDir)
    return failure('INTERNAL_ERROR', `playbook ${spec.playbook} does not exist in ${where.startsWith('..') || path.isAbsolute(where) ? playbooksDir : where}`)
  }
  const deadline = Date.now() + jobTimeoutSeconds(spec.type, config) * 1000
  const run = createRunDir(config.dataDir, job.id, job.attempt_count)
  // Live progress (runtime/jobs/job-events.ts): task n of m and the redacted output lines of this attempt.
  const events = services.jobEvents
  events?.beginAttempt(job.id, job.attempt_count)
  let redact: Redact = (text) => text
  // Secrets the type's preparation used (the provider token): redacted from every message they could reach.
  const preparationSecrets: string[] = []
  try {
    if (spec.beforePlaybook) {
      const outcome = await spec.beforePlaybook(job, ctx, deadline, (secret) => { preparationSecrets.push(secret); redact = createRedactor(preparationSecrets) })
      if (outcome) return outcome
    }
    if (Date.now() >= deadline) return failure('JOB_TIMEOUT', 'The job timeout expired before the playbook could start')
    const built = await buildExtraVars({ services, job, type: spec, resultPath: run.result })
    const privateKey = await services.secrets.get(PRIVATE_KEY_SECRET)
    if (!privateKey) return failure('INTERNAL_ERROR', 'The control-plane SSH key is missing from the secrets store')
    redact = createRedactor([...built.secrets, privateKey, ...preparationSecrets])
    writePrivateFile(run.privateKey, privateKey)
    writePrivateFile(run.vars, `${JSON.stringify(built.vars, null, 2)}\n`)
    writePrivateFile(run.inventory, renderInventory(built.node, run.privateKey, ansible.inventoryHostVars))
    const exit = await runPlaybook({
      playbook, run, repoRoot: config.repoRoot, ansibleConfig: path.join(config.repoRoot, 'ansible', 'ansible.cfg'),
      knownHostsFile: path.join(config.dataDir, 'known_hosts'), extraEnv: ansible.extraEnv,
      timeoutMs: Math.max(1, deadline - Date.now()), killGraceMs: ansible.killGraceMs ?? DEFAULT_KILL_GRACE_MS, signal, log, redact,
      onLine: events ? (line) => events.output(job.id, line) : undefined,
      onProgress: events ? (event) => events.ansible(job.id, event, redact) : undefined,
    })
    if (exit.aborted && !exit.timedOut) return failure('JOB_CANCELLED', `Playbook stopped (${exit.aborted.kind})`)
    const code = classifyPlaybookExit(exit)
    if (code) return failure(code, exit.output || `ansible-playbook ended with ${exit.exitCode ?? exit.signal}`)
    if (!spec.result) return { ok: true, result: null, carry: built.carry }
    return readResult(run, spec.result, built.carry)
  } catch (error) {
    if (error instanceof AbortReason) return failure('JOB_CANCELLED', `Stopped (${error.kind})`)
    if (error instanceof ProviderError) return failure(error.code, redact(error.message), error.retryAfterMs)
    const message = error instanceof Error ? error.message : String(error)
    if (!(error instanceof VarsError || error instanceof InventoryError)) log.error({ err: error }, 'runner failure')
    return failure('INTERNAL_ERROR', redact(message))
  } finally {
    await closeControlMasters(run).catch(() => undefined)
    removeRunDir(run.dir)
  }
}

function readResult(run: RunDir, schema: NonNullable<JobTypeModule['result']>, carry: Record<string, unknown>): JobOutcome {
  let raw: string
  try {
    raw = fs.readFileSync(run.result, 'utf8')
  } catch {
    return failure('INVALID_PLAYBOOK_RESULT', 'The playbook succeeded but wrote no result file to pressluft_result_path')
  }
  let value: unknown
  try { value = JSON.parse(raw) } catch { return failure('INVALID_PLAYBOOK_RESULT', 'The playbook result file is not valid JSON') }
  const parsed = schema.safeParse(value)
  if (!parsed.success) {
    return failure('INVALID_PLAYBOOK_RESULT', `The playbook result file does not match the expected shape: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`)
  }
  return { ok: true, result: parsed.data, carry }
}
