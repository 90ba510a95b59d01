// One attempt of a job (spec/jobs.md "Runner"): run dir, provider acquisition, inventory + vars, playbook, outcome, cleanup.
import fs from 'node:fs'
import path from 'node:path'
import { execa } from 'execa'
import type { JobType } from '../contracts/enums.js'
import type { JobRow } from '../store/jobs.js'
import type { JobOutcome, RunnerContext } from './job-runner.js'
import { jobRegistry, jobTimeoutSeconds } from './registry.js'
import { classifyPlaybookExit } from './outcomes.js'
import { AbortReason } from './abort-reason.js'
import { payloadOf } from '../store/job-effects.js'
import { readNode, readSettings } from '../store/job-context.js'
import { createRunDir, removeRunDir, writePrivateFile, type RunDir } from '../ansible/run-dir.js'
import { buildExtraVars, VarsError } from '../ansible/extra-vars.js'
import { renderInventory, InventoryError } from '../ansible/inventory.js'
import { createRedactor, type Redact } from '../ansible/redactor.js'
import { runPlaybook } from '../ansible/playbook-process.js'
import { acquireHetznerServer, ProviderError } from '../providers/hetzner.js'
import { PRIVATE_KEY_SECRET, PUBLIC_KEY_SECRET } from '../ssh/control-plane-key.js'

const DEFAULT_KILL_GRACE_MS = 15_000

function failure(code: Extract<JobOutcome, { ok: false }>['code'], message: string): JobOutcome {
  return { ok: false, code, message }
}

/** Ends leftover SSH control masters of the attempt (ControlPersist=60s would otherwise outlive the run dir). */
async function closeControlMasters(run: RunDir): Promise<void> {
  let sockets: string[] = []
  try { sockets = fs.readdirSync(run.controlPathDir) } catch { return }
  await Promise.all(sockets.map((name) => execa('ssh', ['-o', `ControlPath=${path.join(run.controlPathDir, name)}`, '-O', 'exit', 'pressluft-control-master'],
    { reject: false, timeout: 5000, stdin: 'ignore' })))
}

export async function runJobAttempt(job: JobRow, ctx: RunnerContext): Promise<JobOutcome> {
  const { services, signal, log, ansible } = ctx
  const { config } = services
  const type = job.job_type as JobType
  const spec = jobRegistry[type]
  const playbook = path.join(ansible.playbooksDir ?? path.join(config.repoRoot, 'ansible', 'playbooks'), spec.playbook)
  // Never a placeholder: a job type whose playbook is not written yet fails clearly and is not retried.
  if (!fs.existsSync(playbook)) return failure('INTERNAL_ERROR', `playbook ansible/playbooks/${spec.playbook} is not implemented yet`)
  const deadline = Date.now() + jobTimeoutSeconds(type, config) * 1000
  const run = createRunDir(config.dataDir, job.id, job.attempt_count)
  let redact: Redact = (text) => text
  // The provider token is a secret of the attempt like the playbook's: redacted from every message it could reach.
  const providerSecrets: string[] = []
  try {
    const payload = payloadOf(job)
    if (type === 'node_provision' && payload.mode === 'acquire') {
      const outcome = await acquire(job, ctx, deadline, (token) => { providerSecrets.push(token); redact = createRedactor(providerSecrets) })
      if (outcome) return outcome
    }
    if (Date.now() >= deadline) return failure('JOB_TIMEOUT', 'The job timeout expired before the playbook could start')
    const built = await buildExtraVars({ services, job, resultPath: run.result })
    const privateKey = await services.secrets.get(PRIVATE_KEY_SECRET)
    if (!privateKey) return failure('INTERNAL_ERROR', 'The control-plane SSH key is missing from the secrets store')
    redact = createRedactor([...built.secrets, privateKey, ...providerSecrets])
    writePrivateFile(run.privateKey, privateKey)
    writePrivateFile(run.vars, `${JSON.stringify(built.vars, null, 2)}\n`)
    writePrivateFile(run.inventory, renderInventory(built.node, run.privateKey, ansible.inventoryHostVars))
    const exit = await runPlaybook({
      playbook, run, repoRoot: config.repoRoot, ansibleConfig: path.join(config.repoRoot, 'ansible', 'ansible.cfg'),
      knownHostsFile: path.join(config.dataDir, 'known_hosts'), extraEnv: ansible.extraEnv,
      timeoutMs: Math.max(1, deadline - Date.now()), killGraceMs: ansible.killGraceMs ?? DEFAULT_KILL_GRACE_MS, signal, log, redact,
    })
    if (exit.aborted && !exit.timedOut) return failure('JOB_CANCELLED', `Playbook stopped (${exit.aborted.kind})`)
    const code = classifyPlaybookExit(exit)
    if (code) return failure(code, exit.output || `ansible-playbook ended with ${exit.exitCode ?? exit.signal}`)
    if (!spec.result) return { ok: true, result: null, expiredBackupIds: built.expiredBackupIds }
    return readResult(run, spec.result, built.expiredBackupIds)
  } catch (error) {
    if (error instanceof AbortReason) return failure('JOB_CANCELLED', `Stopped (${error.kind})`)
    if (error instanceof ProviderError) return failure(error.code, redact(error.message))
    const message = error instanceof Error ? error.message : String(error)
    if (!(error instanceof VarsError || error instanceof InventoryError)) log.error({ err: error }, 'runner failure')
    return failure('INTERNAL_ERROR', redact(message))
  } finally {
    await closeControlMasters(run).catch(() => undefined)
    removeRunDir(run.dir)
  }
}

function readResult(run: RunDir, schema: NonNullable<(typeof jobRegistry)[JobType]['result']>, expiredBackupIds?: string[]): JobOutcome {
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
  return { ok: true, result: parsed.data, expiredBackupIds }
}

/** Provider acquisition (steps 1-5) within the job budget; returns an outcome only when it failed. */
async function acquire(job: JobRow, ctx: RunnerContext, deadline: number, useToken: (token: string) => void): Promise<JobOutcome | null> {
  const { services, signal, log, ansible } = ctx
  const node = await readNode(services.db, job.node_id)
  if (!node) return failure('INTERNAL_ERROR', `node ${job.node_id} does not exist`)
  const settings = await readSettings(services.db)
  const tokenRef = settings.get('hetzner_api_token')
  const token = tokenRef?.startsWith('secret:') ? await services.secrets.get(tokenRef.slice('secret:'.length)) : null
  if (!token) return failure('PROVIDER_NOT_CONFIGURED', 'hetzner_api_token is not set')
  useToken(token)
  const publicKey = await services.secrets.get(PUBLIC_KEY_SECRET)
  if (!publicKey) return failure('INTERNAL_ERROR', 'The control-plane SSH public key is missing from the secrets store')
  const payload = payloadOf(job)
  const budget = new AbortController()
  const timer = setTimeout(() => budget.abort(new Error('job budget spent')), Math.max(1, deadline - Date.now()))
  try {
    await acquireHetznerServer({
      db: services.db, node, log, token, publicKey, timing: ansible.providerTiming, knownHostsFile: path.join(services.config.dataDir, 'known_hosts'),
      baseUrl: settings.get('hetzner_api_base_url') ?? 'https://api.hetzner.cloud/v1',
      spec: { server_type: String(payload.server_type), location: String(payload.location), image: String(payload.image) },
      signal: AbortSignal.any([signal, budget.signal]),
    })
    return null
  } catch (error) {
    if (budget.signal.aborted && !signal.aborted) return failure('JOB_TIMEOUT', 'The job timeout expired during provider acquisition')
    throw error
  } finally {
    clearTimeout(timer)
  }
}
