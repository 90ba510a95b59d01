// Per-attempt run directories <data_dir>/run/<job_id>-<attempt>/ (0700): inventory, vars, key, control sockets, pid.
import crypto from 'node:crypto'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'

export interface RunDir {
  dir: string
  inventory: string
  vars: string
  privateKey: string
  controlPathDir: string
  localTemp: string
  result: string
  pidFile: string
}

const NAME_RE = /^([0-9a-f-]{36})-(\d+)$/

export function runRoot(dataDir: string): string {
  return path.join(dataDir, 'run')
}

export function runDirFor(dataDir: string, jobId: string, attempt: number): RunDir {
  const dir = path.join(runRoot(dataDir), `${jobId}-${attempt}`)
  return {
    dir,
    inventory: path.join(dir, 'inventory.ini'),
    vars: path.join(dir, 'vars.json'),
    privateKey: path.join(dir, 'id_ed25519'),
    controlPathDir: controlPathDirFor(jobId, attempt),
    localTemp: path.join(dir, 'ansible-local'),
    result: path.join(dir, 'result.json'),
    pidFile: path.join(dir, 'pid'),
  }
}

/**
 * ssh's control sockets live in a short directory of the system temp dir, not below the data dir: a Unix socket path
 * holds at most 107 bytes, and <data_dir>/run/<job_id>-<attempt>/cp/<hash>.<random> overflows it for any data dir
 * longer than about 30 characters (ssh then fails every connection, which Ansible reports as UNREACHABLE).
 */
function controlPathDirFor(jobId: string, attempt: number): string {
  const id = crypto.createHash('sha256').update(`${jobId}-${attempt}`).digest('hex').slice(0, 16)
  return path.join(os.tmpdir(), `pressluft-cp-${id}`)
}

/** Creates a fresh run directory (a leftover of the same attempt is replaced). */
export function createRunDir(dataDir: string, jobId: string, attempt: number): RunDir {
  const run = runDirFor(dataDir, jobId, attempt)
  fs.mkdirSync(runRoot(dataDir), { recursive: true, mode: 0o700 })
  fs.rmSync(run.dir, { recursive: true, force: true })
  fs.mkdirSync(run.dir, { mode: 0o700 })
  fs.chmodSync(run.dir, 0o700)
  fs.rmSync(run.controlPathDir, { recursive: true, force: true })
  // Fails if anyone recreated it in between: never use a socket directory this process did not create.
  fs.mkdirSync(run.controlPathDir, { mode: 0o700 })
  fs.mkdirSync(run.localTemp, { mode: 0o700 })
  return run
}

/** Writes a file readable only by the control plane's user (vars.json, private key). */
export function writePrivateFile(file: string, content: string): void {
  fs.writeFileSync(file, content, { mode: 0o600 })
  fs.chmodSync(file, 0o600)
}

export function removeRunDir(dir: string): void {
  const match = NAME_RE.exec(path.basename(dir))
  if (match) fs.rmSync(controlPathDirFor(match[1], Number(match[2])), { recursive: true, force: true })
  fs.rmSync(dir, { recursive: true, force: true })
}

export interface ExistingRunDir { dir: string; jobId: string; attempt: number }

export function listRunDirs(dataDir: string): ExistingRunDir[] {
  const root = runRoot(dataDir)
  if (!fs.existsSync(root)) return []
  const out: ExistingRunDir[] = []
  for (const name of fs.readdirSync(root)) {
    const match = NAME_RE.exec(name)
    if (match) out.push({ dir: path.join(root, name), jobId: match[1], attempt: Number(match[2]) })
  }
  return out
}

export function readRecordedPid(dir: string): number | null {
  try {
    const value = Number(fs.readFileSync(path.join(dir, 'pid'), 'utf8').trim())
    return Number.isInteger(value) && value > 1 ? value : null
  } catch {
    return null
  }
}
