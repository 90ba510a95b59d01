import { describe, it, expect } from 'vitest'
import { compareDrift, type DriftChecksums } from '../../runtime/drift/compare-drift.js'
import { PROTECTED } from '../../runtime/drift/presets.js'

const t = (checksum: string, rows = 1) => ({ rows, checksum })
const baseline: DriftChecksums = {
  db: { options: t('a'), posts: t('p'), wc_orders: t('o'), users: t('u'), usermeta: t('m') },
  files: { release: 'sha256:r', 'wp-content/themes': 'sha256:t', 'wp-content/uploads': 'sha256:up' },
}
const commerce = PROTECTED['commerce-protect']
const content = PROTECTED['content-protect']

describe('compareDrift', () => {
  it('is clean when nothing a promotion would overwrite changed', () => {
    expect(compareDrift(baseline, baseline, commerce)).toEqual({
      status: 'clean', differences: { tables: [], paths: [], protected_tables: [], protected_paths: [] },
    })
  })

  it('reports new orders, customers and uploads as protected changes that do not make the environment drifted', () => {
    const check = {
      db: { ...baseline.db, posts: t('p2', 2), wc_orders: t('o2', 2), users: t('u2', 2), usermeta: t('m2', 9) },
      files: { ...baseline.files, 'wp-content/uploads': 'sha256:up2' },
    }
    expect(compareDrift(baseline, check, commerce)).toEqual({
      status: 'clean',
      differences: { tables: [], paths: [], protected_tables: ['posts', 'usermeta', 'users', 'wc_orders'], protected_paths: ['wp-content/uploads'] },
    })
  })

  it('names a changed options table and a changed release as drift', () => {
    const check = { db: { ...baseline.db, options: t('b') }, files: { ...baseline.files, release: 'sha256:r2', 'wp-content/themes': 'sha256:t2' } }
    expect(compareDrift(baseline, check, commerce)).toEqual({
      status: 'drifted', differences: { tables: ['options'], paths: ['release', 'wp-content/themes'], protected_tables: [], protected_paths: [] },
    })
  })

  it('judges with the preset it is given: users are overwritten by content-protect, so a new user there is drift', () => {
    const check = { db: { ...baseline.db, users: t('u2', 2) }, files: baseline.files }
    expect(compareDrift(baseline, check, content)).toMatchObject({ status: 'drifted', differences: { tables: ['users'] } })
    expect(compareDrift(baseline, check, commerce)).toMatchObject({ status: 'clean', differences: { protected_tables: ['users'] } })
  })

  it('counts a table created or dropped in production since the clone as a difference', () => {
    const { options: _dropped, ...rest } = baseline.db as Record<string, unknown>
    const check = { db: { ...rest, some_plugin_log: t('x') }, files: baseline.files }
    expect(compareDrift(baseline, check, commerce).differences?.tables).toEqual(['options', 'some_plugin_log'])
  })

  it('records unknown with no differences when there is no baseline, or one from before the release was recorded', () => {
    expect(compareDrift(null, baseline, commerce)).toEqual({ status: 'unknown', differences: null })
    const old = { db: { posts: { rows: 1, checksum: '123' } }, files: { 'wp-content/uploads': 'sha256:x' } }
    expect(compareDrift(old, baseline, commerce)).toEqual({ status: 'unknown', differences: null })
  })
})
