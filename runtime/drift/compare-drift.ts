// Drift = a change in production, since the clone, to what a promotion would overwrite (ansible/README.md,
// amended 2026-11-29). Compares a drift check's checksums with the environment's baseline; pure, so the engine only stores the answer.
import type { ProtectedSet } from './presets.js'

/**
 * Checksums as recorded by the node's pl-checksums.py: every table of production (unprefixed name → {rows, checksum}, rows WordPress
 * rewrites by itself left out) and every path (`release` = production's whole current release, its wp-content code folders, and the
 * protected paths → "sha256:<hex>"). Protected entries are recorded too, for information.
 */
export interface DriftChecksums {
  db: Record<string, unknown> | null
  files: Record<string, unknown> | null
}

export interface DriftDifferences {
  /** Non-protected tables that differ (changed, added or dropped in production since the clone): these make the env drifted. */
  tables: string[]
  /** Non-protected paths that differ; `release` means production's current release changed (deploy, update, rollback). */
  paths: string[]
  /** Protected tables and paths that changed: information only, a promotion keeps production's copy. */
  protected_tables: string[]
  protected_paths: string[]
}

export interface DriftResult {
  status: 'clean' | 'drifted' | 'unknown'
  /** null when there was nothing to compare with (status unknown). */
  differences: DriftDifferences | null
}

/** The path key of production's release; a baseline without it predates the amended format and cannot be compared. */
export const RELEASE_PATH_KEY = 'release'

/**
 * Without a usable baseline nothing can say what production changed since the clone, so the check records `unknown` (no
 * differences) and the promotion's drift gate stays closed: the environment must be cloned again to get a baseline.
 */
export function compareDrift(baseline: DriftChecksums | null, check: DriftChecksums, preset: ProtectedSet): DriftResult {
  if (!baseline || !isRecord(baseline.db) || !isRecord(baseline.files) || !(RELEASE_PATH_KEY in baseline.files)) {
    return { status: 'unknown', differences: null }
  }
  const tables = differingKeys(baseline.db, check.db ?? {})
  const paths = differingKeys(baseline.files, check.files ?? {})
  const protectedTables = new Set(preset.tables)
  const protectedPaths = new Set(preset.paths)
  const differences: DriftDifferences = {
    tables: tables.filter((t) => !protectedTables.has(t)),
    paths: paths.filter((p) => !isProtectedPath(p, protectedPaths)),
    protected_tables: tables.filter((t) => protectedTables.has(t)),
    protected_paths: paths.filter((p) => isProtectedPath(p, protectedPaths)),
  }
  return { status: differences.tables.length || differences.paths.length ? 'drifted' : 'clean', differences }
}

function isProtectedPath(path: string, protectedPaths: Set<string>): boolean {
  for (const p of protectedPaths) if (path === p || path.startsWith(`${p}/`)) return true
  return false
}

function differingKeys(a: Record<string, unknown>, b: Record<string, unknown>): string[] {
  const keys = new Set([...Object.keys(a), ...Object.keys(b)])
  return [...keys].filter((k) => !(k in a) || !(k in b) || canonicalJson(a[k]) !== canonicalJson(b[k])).sort()
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`
  if (value && typeof value === 'object') {
    return `{${Object.keys(value).sort().map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`).join(',')}}`
  }
  return JSON.stringify(value ?? null)
}

export function parseChecksumsJson(text: string | null): Record<string, unknown> | null {
  if (text === null) return null
  try {
    const value: unknown = JSON.parse(text)
    return isRecord(value) ? value : null
  } catch { return null }
}
