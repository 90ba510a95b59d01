// The magic-login node query: one `ssh` command with a fixed remote command, a temporary key file and a hard time limit.
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { SLUG_RE } from '../contracts/validation.js'

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/
const UUID8_RE = /^[0-9a-f]{8}$/
const SSH_USER_RE = /^[a-z_][a-z0-9_-]{0,31}$/
const SSH_HOST_RE = /^[A-Za-z0-9.:-]{1,253}$/

export class UnsafeQueryInputError extends Error {}

/**
 * `sudo -n -u wp_<uuid8> -- php /usr/local/lib/pressluft/pl-wp.php --root=<env_root>/current magic-login-token`, built
 * only from database values that are re-checked against their patterns, since ssh hands the string to a remote shell.
 */
export function magicLoginCommand(env: { id: string; site_id: string; slug: string }): string {
  const uuid8 = env.id.slice(0, 8)
  if (!UUID_RE.test(env.id) || !UUID8_RE.test(uuid8)) throw new UnsafeQueryInputError('environment id is not a UUID')
  if (!UUID_RE.test(env.site_id)) throw new UnsafeQueryInputError('site id is not a UUID')
  if (!SLUG_RE.test(env.slug)) throw new UnsafeQueryInputError('environment slug does not match the slug rule')
  const envRoot = `/var/www/sites/${env.site_id}/${env.slug}`
  return `sudo -n -u wp_${uuid8} -- php /usr/local/lib/pressluft/pl-wp.php --root=${envRoot}/current magic-login-token`
}

export interface NodeQueryTarget { hostname: string; ssh_port: number; ssh_user: string }

export type NodeQueryResult =
  | { outcome: 'ok'; stdout: string }
  /** ssh could not reach or authenticate (exit 255), or the call hit the time limit. */
  | { outcome: 'unreachable'; reason: string; stderr: string }
  /** The remote command ran and exited non-zero. */
  | { outcome: 'remote_failed'; exitCode: number; stdout: string; stderr: string }

export interface NodeQueryOptions {
  target: NodeQueryTarget
  remoteCommand: string
  privateKey: string
  knownHostsFile: string
  timeoutMs: number
}

/** Runs exactly one ssh command; the private key exists on disk (0600) only for the duration of the call. */
export async function runNodeQuery(options: NodeQueryOptions): Promise<NodeQueryResult> {
  const { target } = options
  if (!SSH_USER_RE.test(target.ssh_user) || !SSH_HOST_RE.test(target.hostname) || target.hostname.startsWith('-')) {
    throw new UnsafeQueryInputError('node ssh_user or hostname does not match its pattern')
  }
  const keyDir = fs.mkdtempSync(path.join(os.tmpdir(), 'pressluft-node-query-'))
  const keyFile = path.join(keyDir, 'id_ed25519')
  try {
    fs.writeFileSync(keyFile, options.privateKey.endsWith('\n') ? options.privateKey : `${options.privateKey}\n`, { mode: 0o600 })
    const { execa } = await import('execa') // loaded on first use, see docs/performance.md ("API", memory)
    const result = await execa('ssh', [
      '-o', 'BatchMode=yes',
      '-o', 'ConnectTimeout=5',
      '-o', 'StrictHostKeyChecking=accept-new',
      '-o', `UserKnownHostsFile=${options.knownHostsFile}`,
      // Only the control-plane key: an agent or default keys of the service user must not be offered.
      '-o', 'IdentitiesOnly=yes',
      '-i', keyFile,
      '-p', String(target.ssh_port),
      `${target.ssh_user}@${target.hostname}`,
      options.remoteCommand,
    ], { reject: false, timeout: options.timeoutMs, killSignal: 'SIGKILL', stdin: 'ignore', stripFinalNewline: true, maxBuffer: 1024 * 1024 })
    const stderr = String(result.stderr ?? '')
    if (result.timedOut) return { outcome: 'unreachable', reason: `ssh killed after ${options.timeoutMs} ms`, stderr }
    if (result.exitCode === 255) return { outcome: 'unreachable', reason: 'ssh exited 255', stderr }
    if (result.exitCode === undefined) return { outcome: 'unreachable', reason: result.signal ? `ssh ended by ${result.signal}` : 'ssh could not be started', stderr }
    if (result.exitCode !== 0) return { outcome: 'remote_failed', exitCode: result.exitCode, stdout: String(result.stdout ?? ''), stderr }
    return { outcome: 'ok', stdout: String(result.stdout ?? '') }
  } finally {
    fs.rmSync(keyDir, { recursive: true, force: true })
  }
}

export interface MagicLoginToken { token: string; expires_at: string }

/** The helper's one JSON line `{"ok":true,"token":…,"expires_at":…}`, or null when it is anything else. */
export function parseMagicLoginOutput(stdout: string): MagicLoginToken | null {
  const line = stdout.trim().split('\n').pop() ?? ''
  let parsed: unknown
  try { parsed = JSON.parse(line) } catch { return null }
  if (typeof parsed !== 'object' || parsed === null) return null
  const { ok, token, expires_at: expiresAt } = parsed as Record<string, unknown>
  if (ok !== true || typeof token !== 'string' || !/^[A-Za-z0-9_-]{16,256}$/.test(token)) return null
  if (typeof expiresAt !== 'string' && typeof expiresAt !== 'number') return null
  const expires = typeof expiresAt === 'number' ? new Date(expiresAt * 1000) : new Date(expiresAt)
  if (Number.isNaN(expires.getTime())) return null
  return { token, expires_at: expires.toISOString() }
}
