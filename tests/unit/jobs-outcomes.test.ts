import { describe, it, expect } from 'vitest'
import { backoffMs, classifyPlaybookExit, decideFailure, errorClass, lastMarker, JOB_ERROR_CLASSES } from '../../runtime/jobs/outcomes.js'
import { JOB_TYPES, jobTypeOf, playbookPath } from '../../runtime/jobs/registry.js'

const exit = (exitCode: number | null, output = '', extra: Partial<{ timedOut: boolean; signal: string }> = {}) =>
  classifyPlaybookExit({ exitCode, signal: extra.signal ?? null, timedOut: extra.timedOut ?? false, output })

describe('ansible-playbook exit-code table', () => {
  it.each([
    [0, '', null],
    [1, 'ERROR! vars file not found', 'ANSIBLE_PLAY_ERROR'],
    [2, 'fatal: [node]: FAILED!', 'ANSIBLE_HOST_FAILED'],
    [8, '', 'ANSIBLE_HOST_FAILED'],
    [4, 'fatal: [node]: UNREACHABLE! => {"changed": false}', 'ANSIBLE_HOST_UNREACHABLE'],
    [4, 'ERROR! We were unable to read either as JSON nor YAML', 'ANSIBLE_SYNTAX_ERROR'],
    [5, 'usage: ansible-playbook', 'ANSIBLE_SYNTAX_ERROR'],
    [250, '', 'ANSIBLE_UNEXPECTED_ERROR'],
    [3, '', 'ANSIBLE_UNKNOWN_EXIT'],
    [null, '', 'ANSIBLE_UNKNOWN_EXIT'],
  ])('maps exit %s to %s', (code, output, expected) => {
    expect(exit(code, output)).toBe(expected)
  })

  it('maps a playbook killed by the job timeout to ANSIBLE_TIMEOUT whatever its exit', () => {
    expect(exit(null, 'PRESSLUFT_ERROR=DNS_MISMATCH', { timedOut: true, signal: 'SIGTERM' })).toBe('ANSIBLE_TIMEOUT')
  })

  it('lets the last known PRESSLUFT_ERROR marker replace the mapping on a non-zero exit, never on success', () => {
    const output = 'msg: PRESSLUFT_ERROR=TLS_ISSUANCE_FAILED first\n...\nmsg: PRESSLUFT_ERROR=DNS_MISMATCH DNS for a.test does not point here\nPRESSLUFT_ERROR=NOT_A_CODE'
    expect(lastMarker(output)).toBe('DNS_MISMATCH')
    expect(exit(2, output)).toBe('DNS_MISMATCH')
    expect(exit(4, `${output}\nUNREACHABLE!`)).toBe('DNS_MISMATCH')
    expect(exit(0, output)).toBeNull()
  })
})

describe('retry classes and backoff', () => {
  it('classifies every job error code of the spec', () => {
    expect(errorClass('WORKER_LOST')).toBe('retryable')
    expect(errorClass('PROVIDER_NOT_READY')).toBe('retryable')
    expect(errorClass('DNS_MISMATCH')).toBe('precondition')
    expect(errorClass('PROVIDER_NOT_CONFIGURED')).toBe('precondition')
    expect(errorClass('HEALTH_CHECK_FAILED')).toBe('non_retryable')
    expect(errorClass('ANSIBLE_SYNTAX_ERROR')).toBe('non_retryable')
    // A storage that refuses the configured key or bucket: only a settings change helps.
    expect(errorClass('BACKUP_STORAGE_REJECTED')).toBe('non_retryable')
    expect(errorClass('RELEASE_NOT_ON_NODE')).toBe('precondition')
    expect(Object.keys(JOB_ERROR_CLASSES)).toHaveLength(36)
  })

  it('backs off 1 minute after attempt 1, 5 after attempt 2 and 15 after later attempts', () => {
    expect([1, 2, 3, 4, 7].map((n) => backoffMs(n, [60, 300, 900]) / 60_000)).toEqual([1, 5, 15, 15, 15])
  })

  it('requeues a retryable error while attempts remain, else fails; precondition failures are flagged', () => {
    expect(decideFailure('ANSIBLE_HOST_FAILED', 1, 3, [60, 300, 900])).toEqual({ status: 'queued', runAfterMs: 60_000 })
    expect(decideFailure('ANSIBLE_HOST_FAILED', 2, 3, [60, 300, 900])).toEqual({ status: 'queued', runAfterMs: 300_000 })
    expect(decideFailure('ANSIBLE_HOST_FAILED', 3, 3, [60, 300, 900])).toEqual({ status: 'failed', precondition: false })
    expect(decideFailure('INTERNAL_ERROR', 1, 3, [60, 300, 900])).toEqual({ status: 'failed', precondition: false })
    expect(decideFailure('NODE_NOT_ACTIVE', 1, 3, [60, 300, 900])).toEqual({ status: 'failed', precondition: true })
  })
})

describe('job registry', () => {
  it('has a module for each of the 18 job types with its hyphenated playbook', () => {
    expect(JOB_TYPES).toHaveLength(18)
    for (const type of JOB_TYPES) expect(playbookPath(type)).toBe(`ansible/playbooks/${type.replace(/_/g, '-')}.yml`)
  })

  it('names only registered job types as follow-ups, and only release_rollback follows health_check', () => {
    for (const type of JOB_TYPES) for (const next of jobTypeOf(type).followUps ?? []) expect(JOB_TYPES).toContain(next)
    expect(jobTypeOf('health_check').followUps).toEqual(['release_rollback'])
    expect(() => jobTypeOf('teleport_site')).toThrow(/no module runtime\/jobs\/types\/teleport-site\.ts/)
  })

  it('scopes node_provision and backup_cleanup globally and every other type to a site', () => {
    const global = JOB_TYPES.filter((t) => jobTypeOf(t).scope === 'global')
    expect(global.sort()).toEqual(['backup_cleanup', 'node_provision'])
  })

  it('enqueues health_check after exactly the chain-starting types, and returns results where the spec says (and env_promote its new drift baseline)', () => {
    const followed = JOB_TYPES.filter((t) => jobTypeOf(t).followUps?.includes('health_check'))
    expect(followed.sort()).toEqual(['env_deploy', 'env_promote', 'env_restore', 'env_update', 'site_import'])
    const returning = JOB_TYPES.filter((t) => jobTypeOf(t).result)
    expect(returning.sort()).toEqual(['backup_create', 'drift_check', 'env_create', 'env_promote', 'health_check', 'site_import'])
  })

  it('moves site status at start only for the types of the state machine', () => {
    const moves = Object.fromEntries(JOB_TYPES.filter((t) => jobTypeOf(t).start.some((c) => c.resource === 'site'))
      .map((t) => [t, jobTypeOf(t).start.find((c) => c.resource === 'site')!.to]))
    expect(moves).toEqual({ site_import: 'restoring', env_create: 'cloning', env_deploy: 'deploying', env_update: 'deploying', env_restore: 'restoring', env_promote: 'deploying' })
    for (const type of Object.keys(moves)) expect(jobTypeOf(type).preconditions).toContain('site_usable')
  })
})
