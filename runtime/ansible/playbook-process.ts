// Spawns ansible-playbook (argv array, own process group), streams redacted lines to pino, enforces timeout and abort.
import fs from 'node:fs'
import path from 'node:path'
import readline from 'node:readline'
import type { Logger } from '../logging.js'
import type { RunDir } from './run-dir.js'
import type { Redact } from './redactor.js'
import { killTree, terminateTree } from './process-tree.js'
import { AbortReason } from '../jobs/abort-reason.js'
import type { PlaybookExit } from '../jobs/outcomes.js'
import type { AnsibleProgressEvent } from '../jobs/job-events.js'

/** The progress plugin writes its JSON lines to this descriptor of ansible-playbook (a pipe of the runner). */
export const PROGRESS_FD = 3
/** How long the runner waits, after ansible-playbook exited, for the rest of the progress pipe. */
const PROGRESS_DRAIN_MS = 2000

export const OUTPUT_TAIL_BYTES = 10 * 1024

export interface PlaybookInvocation {
  playbook: string
  run: RunDir
  repoRoot: string
  ansibleConfig: string
  knownHostsFile: string
  extraEnv?: Record<string, string>
  timeoutMs: number
  killGraceMs: number
  signal: AbortSignal
  log: Logger
  redact: Redact
  /** Each redacted output line, as the log gets it (live progress, runtime/jobs/job-events.ts). */
  onLine?: (line: string) => void
  /** Each event of the progress callback plugin (ansible/callback_plugins/pressluft_progress.py). */
  onProgress?: (event: AnsibleProgressEvent) => void
}

export interface PlaybookRunResult extends PlaybookExit {
  /** Why the runner stopped it early, if it did (cancel, shutdown, stale recovery). */
  aborted: AbortReason | null
}

/** Keeps the newest lines up to a byte budget. */
class Tail {
  private lines: string[] = []
  private bytes = 0
  constructor(private readonly limit: number) {}
  push(line: string): void {
    this.lines.push(line)
    this.bytes += Buffer.byteLength(line) + 1
    while (this.bytes > this.limit && this.lines.length > 1) this.bytes -= Buffer.byteLength(this.lines.shift()!) + 1
  }
  toString(): string {
    const text = this.lines.join('\n')
    const buf = Buffer.from(text)
    return buf.length <= this.limit ? text : buf.subarray(buf.length - this.limit).toString('utf8')
  }
}

/**
 * Enables the project's progress callback for this run. It is a notification plugin: it writes only to the progress
 * pipe, so the output the operator reads (stdout, the log, error_message) stays the stock callback's. ansible.cfg and
 * extraEnv may enable further callbacks; the plugin is added to their list.
 */
function progressEnv(repoRoot: string, extraEnv: Record<string, string> | undefined): Record<string, string> {
  const dir = path.join(repoRoot, 'ansible', 'callback_plugins')
  const join = (a: string | undefined, b: string, sep: string) => (a ? `${a}${sep}${b}` : b)
  return {
    ANSIBLE_CALLBACK_PLUGINS: join(extraEnv?.ANSIBLE_CALLBACK_PLUGINS ?? process.env.ANSIBLE_CALLBACK_PLUGINS, dir, ':'),
    ANSIBLE_CALLBACKS_ENABLED: join(extraEnv?.ANSIBLE_CALLBACKS_ENABLED ?? process.env.ANSIBLE_CALLBACKS_ENABLED, 'pressluft_progress', ','),
    PRESSLUFT_PROGRESS_FD: String(PROGRESS_FD),
  }
}

/** Parses the plugin's JSON lines; a line that is not one of its events is ignored. */
function readProgress(stream: NodeJS.ReadableStream | undefined, inv: PlaybookInvocation): { drained(): Promise<void> } {
  if (!stream) return { drained: async () => undefined }
  const lines = readline.createInterface({ input: stream, crlfDelay: Infinity })
  const closed = new Promise<void>((resolve) => lines.once('close', () => resolve()))
  lines.on('line', (raw) => {
    if (!inv.onProgress) return
    let event: unknown
    try { event = JSON.parse(raw) } catch { return }
    if (!event || typeof event !== 'object' || typeof (event as { event?: unknown }).event !== 'string') return
    try { inv.onProgress(event as AnsibleProgressEvent) } catch { /* best effort */ }
  })
  return {
    // A process that inherited the pipe (none should: ssh closes extra descriptors) must not hold the job open.
    async drained() {
      let timer: NodeJS.Timeout | undefined
      await Promise.race([closed, new Promise<void>((resolve) => { timer = setTimeout(resolve, PROGRESS_DRAIN_MS) })])
      clearTimeout(timer)
      lines.close()
      ;(stream as NodeJS.ReadableStream & { destroy?: () => void }).destroy?.()
    },
  }
}

function shellQuote(value: string): string {
  return /^[A-Za-z0-9_./:=@-]+$/.test(value) ? value : `'${value.replace(/'/g, `'\\''`)}'`
}

export function playbookArgv(inv: Pick<PlaybookInvocation, 'playbook' | 'run' | 'knownHostsFile'>): string[] {
  return [
    '-i', inv.run.inventory,
    '-e', `@${inv.run.vars}`,
    `--ssh-extra-args=-o StrictHostKeyChecking=accept-new -o UserKnownHostsFile=${shellQuote(inv.knownHostsFile)}`,
    inv.playbook,
  ]
}

export async function runPlaybook(inv: PlaybookInvocation): Promise<PlaybookRunResult> {
  const { execa } = await import('execa') // loaded on first use, see docs/performance.md ("API", memory)
  const child = execa('ansible-playbook', playbookArgv(inv), {
    cwd: inv.repoRoot,
    env: {
      ANSIBLE_CONFIG: inv.ansibleConfig,
      ANSIBLE_SSH_CONTROL_PATH_DIR: inv.run.controlPathDir,
      ANSIBLE_LOCAL_TEMP: inv.run.localTemp,
      ANSIBLE_NOCOLOR: '1',
      PYTHONUNBUFFERED: '1',
      ...inv.extraEnv,
      ...progressEnv(inv.repoRoot, inv.extraEnv),
    },
    detached: true, // own process group: the whole tree can be signalled at once
    stdio: ['ignore', 'pipe', 'pipe', 'pipe'],
    all: true,
    buffer: false,
    reject: false,
  })
  const pid = child.pid
  if (!pid) {
    // Not an Ansible outcome: the process never ran (e.g. ansible-playbook missing from PATH).
    const failed = await child
    throw new Error(`could not start ansible-playbook: ${failed.shortMessage ?? 'spawn failed'}`)
  }
  fs.writeFileSync(inv.run.pidFile, String(pid), { mode: 0o600 })
  const tail = new Tail(OUTPUT_TAIL_BYTES)
  let timedOut = false
  let aborted: AbortReason | null = null
  let stopping: Promise<void> | undefined

  const stop = (graceMs: number) => {
    if (stopping) return
    stopping = graceMs > 0 ? terminateTree(pid, graceMs) : Promise.resolve(killTree(pid))
  }
  const timer = setTimeout(() => { timedOut = true; inv.log.warn({ timeout_ms: inv.timeoutMs }, 'job timeout: stopping the playbook'); stop(inv.killGraceMs) }, inv.timeoutMs)
  const onAbort = () => {
    const reason = inv.signal.reason
    aborted = reason instanceof AbortReason ? reason : new AbortReason('cancel')
    inv.log.warn({ reason: aborted.kind }, 'stopping the playbook')
    stop(aborted.kind === 'shutdown' ? 0 : inv.killGraceMs)
  }
  if (inv.signal.aborted) onAbort()
  else inv.signal.addEventListener('abort', onAbort, { once: true })

  const lines = readline.createInterface({ input: child.all!, crlfDelay: Infinity })
  const drained = new Promise<void>((resolve) => lines.once('close', () => resolve()))
  lines.on('line', (raw) => {
    const line = inv.redact(raw)
    tail.push(line)
    inv.log.info({ line }, 'ansible')
    if (inv.onLine) try { inv.onLine(line) } catch { /* progress is best effort; the run goes on */ }
  })
  const progress = readProgress(child.stdio[PROGRESS_FD] as NodeJS.ReadableStream | undefined, inv)
  const result = await child
  await drained
  await progress.drained()
  clearTimeout(timer)
  inv.signal.removeEventListener('abort', onAbort)
  if (stopping) await stopping
  // Whatever the playbook left in its process group (it is gone; the group id cannot be reused while members live).
  try { process.kill(-pid, 'SIGKILL') } catch { /* empty group */ }
  const output = tail.toString()
  return {
    exitCode: typeof result.exitCode === 'number' ? result.exitCode : null,
    signal: result.signal ?? null,
    timedOut,
    aborted,
    output,
  }
}
