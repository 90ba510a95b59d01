// The data directory is private to the control plane's user: directories 0700, files 0600 (docs/decisions.md "Private
// data directory"). It holds the database (password and session hashes, audit log, job output), the secrets store,
// known_hosts and the job run directories with the SSH key; nobody else on the host has a reason to read any of it.
import fs from 'node:fs'
import path from 'node:path'
import type { Logger } from '../logging.js'

export const PRIVATE_DIR_MODE = 0o700
export const PRIVATE_FILE_MODE = 0o600

/** The file behind an embedded libSQL URL (`file:<path>`), or null for a server URL or an in-memory database. */
export function embeddedDbFile(dbUrl: string): string | null {
  if (!dbUrl.startsWith('file:')) return null
  const file = dbUrl.slice('file:'.length).split('?')[0]
  return file && file !== ':memory:' ? path.resolve(file) : null
}

/** The database file and the files SQLite keeps beside it. */
function dbFiles(file: string): string[] {
  return [file, `${file}-wal`, `${file}-shm`, `${file}-journal`]
}

interface Tightened { path: string; from: number }

/** Removes group and other bits from `target` (owner bits kept); records what it changed. */
function tighten(target: string, stat: fs.Stats, changed: Tightened[]): void {
  const mode = stat.mode & 0o777
  if ((mode & 0o077) === 0) return
  fs.chmodSync(target, mode & 0o700)
  changed.push({ path: target, from: mode })
}

/** Tightens a directory and everything below it except `keep` (symbolic links are not followed). */
function tightenTree(root: string, changed: Tightened[], keep: Set<string>): void {
  if (keep.has(root)) return
  const stat = fs.lstatSync(root)
  if (stat.isSymbolicLink()) return
  tighten(root, stat, changed)
  if (!stat.isDirectory()) return
  for (const name of fs.readdirSync(root)) tightenTree(path.join(root, name), changed, keep)
}

/** Creates `dir` (and missing parents) 0700; an existing directory is left to tightenTree. */
function ensureDir(dir: string): void {
  if (fs.existsSync(dir)) return
  fs.mkdirSync(dir, { recursive: true, mode: PRIVATE_DIR_MODE })
  fs.chmodSync(dir, PRIVATE_DIR_MODE)
}

/** Creates an empty file 0600 unless it exists, so whoever writes it later (SQLite, ssh) keeps that mode. */
function ensurePrivateFile(file: string): void {
  try {
    fs.closeSync(fs.openSync(file, fs.constants.O_CREAT | fs.constants.O_EXCL | fs.constants.O_WRONLY, PRIVATE_FILE_MODE))
    fs.chmodSync(file, PRIVATE_FILE_MODE)
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error
  }
}

export interface PrivateDataPaths { dataDir: string; secretsDir: string; dbUrl: string }

/**
 * Start-up step before the database opens: creates the data directory 0700, tightens an existing one (and everything in
 * it but the secrets' master.key, the secrets directory and an embedded database kept elsewhere) that group or others
 * can read, with one log line,
 * and creates the database file and known_hosts 0600 before SQLite and ssh first write them: SQLite gives its -wal and
 * -shm files the mode of the database file, and ssh appends to an existing known_hosts without changing its mode.
 */
export function preparePrivateData(paths: PrivateDataPaths, logger: Logger): void {
  const changed: Tightened[] = []
  // A master.key that others could read may have leaked: SecretStore.open refuses to start on it (docs/decisions.md),
  // so it is never quietly fixed here.
  const keep = new Set([path.join(paths.secretsDir, 'master.key')])
  ensureDir(paths.dataDir)
  tightenTree(paths.dataDir, changed, keep)
  const inside = (target: string) => !path.relative(paths.dataDir, target).startsWith('..') && !path.isAbsolute(path.relative(paths.dataDir, target))
  if (!inside(paths.secretsDir)) {
    ensureDir(paths.secretsDir)
    tightenTree(paths.secretsDir, changed, keep)
  }
  const dbFile = embeddedDbFile(paths.dbUrl)
  if (dbFile) {
    // A database outside the data directory: its own files are tightened, not the directory the operator chose for it.
    if (!inside(dbFile)) {
      fs.mkdirSync(path.dirname(dbFile), { recursive: true, mode: PRIVATE_DIR_MODE })
      for (const file of dbFiles(dbFile)) {
        try { tighten(file, fs.lstatSync(file), changed) } catch (error) { if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error }
      }
    }
    ensurePrivateFile(dbFile)
  }
  ensurePrivateFile(path.join(paths.dataDir, 'known_hosts'))
  if (changed.length) {
    logger.warn({
      data_dir: paths.dataDir, tightened: changed.length,
      examples: changed.slice(0, 5).map((c) => `${c.path} ${c.from.toString(8).padStart(4, '0')}`),
    }, 'data directory was readable by group or others: removed their access (directories 0700, files 0600)')
  }
}

/** After the database opened: its -wal and -shm exist now; makes sure they (and the file) are 0600. */
export function tightenDbFiles(dbUrl: string): void {
  const dbFile = embeddedDbFile(dbUrl)
  if (!dbFile) return
  for (const file of dbFiles(dbFile)) {
    try {
      const stat = fs.lstatSync(file)
      if (stat.isFile() && (stat.mode & 0o077) !== 0) fs.chmodSync(file, stat.mode & 0o700)
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error
    }
  }
}
