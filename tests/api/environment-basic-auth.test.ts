// PUT /api/environments/{id}/basic-auth: validation (structured 400s), the write-only password (a SHA-512 crypt hash
// in the secret store, never in an answer, a job payload or an audit row), the env_protection job it accepts and the
// extra-vars every playbook rendering the server blocks gets from the setting.
import fs from 'node:fs'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { TestControlPlane } from '../support/control-plane.js'
import { auditsFor, createActiveStaging, expectError, jobById, row, startWithActiveSite, type SeededSite } from '../support/seed.js'
import { sha512Crypt } from '../../runtime/environments/htpasswd.js'
import { buildExtraVars } from '../../runtime/ansible/extra-vars.js'
import { jobTypeOf } from '../../runtime/jobs/registry.js'
import { getJobRow } from '../../runtime/store/jobs.js'

interface AuthRow { basic_auth_enabled: number; basic_auth_username: string | null; basic_auth_password_ref: string | null; state_version: number }

const PASSWORD = 'correct staging secret'

describe('PUT /api/environments/{id}/basic-auth', () => {
  let cp: TestControlPlane
  let site: SeededSite
  let stagingId: string
  const put = (envId: string, body: unknown) => cp.request('PUT', `/api/environments/${envId}/basic-auth`, body)
  const authRow = (envId: string) => row<AuthRow>(cp, 'SELECT basic_auth_enabled, basic_auth_username, basic_auth_password_ref, state_version FROM environments WHERE id = ?', [envId])
  const storedHash = async (envId: string) => cp.services.secrets.get((await authRow(envId)).basic_auth_password_ref!.slice('secret:'.length))
  /** Extra-vars of a job as the runner would build them. */
  async function varsOf(jobId: string) {
    const job = (await getJobRow(cp.services.db, jobId))!
    return buildExtraVars({ services: cp.services, job, type: jobTypeOf(job.job_type), resultPath: '/tmp/unused-result.json' })
  }

  beforeEach(async () => {
    ({ cp, site } = await startWithActiveSite())
    stagingId = await createActiveStaging(cp, site)
  })
  afterEach(async () => { await cp.close() })

  it('stores the username and only a SHA-512 crypt hash of the password, and accepts env_protection', async () => {
    const res = await put(stagingId, { enabled: true, username: 'reviewer', password: PASSWORD })
    expect(res.status).toBe(202)
    const body = await res.text()
    const job = await jobById(cp, JSON.parse(body).job_id)
    expect(job).toMatchObject({ job_type: 'env_protection', environment_id: stagingId, site_id: site.siteId, status: 'queued' })

    const stored = await authRow(stagingId)
    expect(stored).toMatchObject({ basic_auth_enabled: 1, basic_auth_username: 'reviewer' })
    expect(stored.basic_auth_password_ref).toMatch(new RegExp(`^secret:env/${stagingId}/basic-auth-[0-9a-f-]{36}$`))
    const hash = (await storedHash(stagingId))!
    const [, , salt] = hash.split('$')
    expect(hash).toMatch(/^\$6\$[./0-9A-Za-z]{16}\$[./0-9A-Za-z]{86}$/)
    expect(sha512Crypt(PASSWORD, salt)).toBe(hash)

    const view = await cp.request('GET', `/api/environments/${stagingId}`)
    const viewText = await view.text()
    expect(JSON.parse(viewText).basic_auth).toEqual({ enabled: true, username: 'reviewer' })
    const list = await (await cp.request('GET', `/api/sites/${site.siteId}/environments`)).text()
    const [audit] = await auditsFor(cp, 'env_protection')
    expect(audit).toMatchObject({ resource_type: 'environment', resource_id: stagingId, result: 'accepted', job_id: job.id })
    expect(audit.details).toEqual({ enabled: true, username: 'reviewer', password_changed: true })
    // Neither the password nor its hash leaves the control plane through the API, the job or the audit log.
    for (const text of [body, viewText, list, job.payload_json, audit.details_json ?? '']) {
      expect(text).not.toContain(PASSWORD)
      expect(text).not.toContain(hash)
    }
  })

  it('answers structured 400s for a missing enabled, a bad username, a short password and unknown fields', async () => {
    const cases: [unknown, string][] = [
      [{ username: 'reviewer', password: PASSWORD }, 'enabled'],
      [{ enabled: true, username: 'a:b', password: PASSWORD }, 'username'],
      [{ enabled: true, username: 'with space', password: PASSWORD }, 'username'],
      [{ enabled: true, username: 'x'.repeat(65), password: PASSWORD }, 'username'],
      [{ enabled: true, username: 'reviewer', password: 'short' }, 'password'],
      [{ enabled: true, username: 'reviewer', password: 'p'.repeat(129) }, 'password'],
      [{ enabled: true, username: 'reviewer', password: 'line\nbreak-pass' }, 'password'],
      [{ enabled: 'yes', username: 'reviewer', password: PASSWORD }, 'enabled'],
      [{ enabled: true, username: 'reviewer', password: PASSWORD, realm: 'x' }, ''],
    ]
    for (const [body, path] of cases) {
      const error = await expectError(await put(stagingId, body), 400, 'bad_request')
      const issues = error.details!.issues as { path: string; message: string }[]
      expect(issues.length, JSON.stringify(body)).toBeGreaterThan(0)
      if (path) expect(issues.map((i) => i.path), JSON.stringify(body)).toContain(path)
      expect(JSON.stringify(error)).not.toContain(PASSWORD)
    }
    expect(await authRow(stagingId)).toMatchObject({ basic_auth_enabled: 0, basic_auth_username: null, basic_auth_password_ref: null })
  })

  it('needs a username and a password to enable, and a new password whenever the username changes', async () => {
    let error = await expectError(await put(stagingId, { enabled: true }), 400, 'bad_request')
    expect((error.details!.issues as { path: string }[]).map((i) => i.path).sort()).toEqual(['password', 'username'])
    error = await expectError(await put(stagingId, { enabled: true, username: 'reviewer' }), 400, 'bad_request')
    expect((error.details!.issues as { path: string }[]).map((i) => i.path)).toEqual(['password'])

    expect((await put(stagingId, { enabled: true, username: 'reviewer', password: PASSWORD })).status).toBe(202)
    const first = await authRow(stagingId)
    // Off and on again with the stored credentials: no password needed, the same hash is kept.
    expect((await put(stagingId, { enabled: false })).status).toBe(202)
    expect(await authRow(stagingId)).toMatchObject({ basic_auth_enabled: 0, basic_auth_username: 'reviewer', basic_auth_password_ref: first.basic_auth_password_ref })
    expect((await put(stagingId, { enabled: true })).status).toBe(202)
    expect(await authRow(stagingId)).toMatchObject({ basic_auth_enabled: 1, basic_auth_password_ref: first.basic_auth_password_ref })
    // Another username without a password is refused and changes nothing.
    error = await expectError(await put(stagingId, { enabled: true, username: 'someone-else' }), 400, 'bad_request')
    expect((error.details!.issues as { path: string }[]).map((i) => i.path)).toEqual(['password'])
    expect(await authRow(stagingId)).toMatchObject({ basic_auth_username: 'reviewer', basic_auth_password_ref: first.basic_auth_password_ref })

    // A new password replaces the stored hash; the old secret is deleted.
    expect((await put(stagingId, { enabled: true, username: 'reviewer', password: 'another staging secret' })).status).toBe(202)
    const second = await authRow(stagingId)
    expect(second.basic_auth_password_ref).not.toBe(first.basic_auth_password_ref)
    expect(await cp.services.secrets.get(first.basic_auth_password_ref!.slice('secret:'.length))).toBeNull()
    expect(second.state_version).toBeGreaterThan(first.state_version)
  })

  it('answers 404 for an unknown environment, 409 for one that is not active, 401 without a session', async () => {
    await expectError(await put('00000000-0000-4000-8000-000000000000', { enabled: false }), 404, 'not_found')
    await cp.services.db.execute({ sql: "UPDATE environments SET status = 'deploying' WHERE id = ?", args: [stagingId] })
    await expectError(await put(stagingId, { enabled: true, username: 'reviewer', password: PASSWORD }), 409, 'environment_not_active')
    expect(await authRow(stagingId)).toMatchObject({ basic_auth_enabled: 0, basic_auth_password_ref: null })
    // A refused request leaves no hash behind in the secret store.
    const stored = fs.readdirSync(cp.config.secretsDir, { recursive: true }) as string[]
    expect(stored.filter((name) => name.includes('basic-auth'))).toEqual([])
    const anonymous = await cp.request('PUT', `/api/environments/${stagingId}/basic-auth`, { enabled: false }, { cookie: '' })
    expect(anonymous.status).toBe(401)
  })

  it('also protects production when asked (a site before its launch)', async () => {
    expect((await put(site.productionId, { enabled: true, username: 'prelaunch', password: PASSWORD })).status).toBe(202)
    expect(await authRow(site.productionId)).toMatchObject({ basic_auth_enabled: 1, basic_auth_username: 'prelaunch' })
  })

  it('gives every job of the environment the setting as extra-vars: the htpasswd line redacted, noindex from the environment type', async () => {
    const enabled = await (await put(stagingId, { enabled: true, username: 'reviewer', password: PASSWORD })).json()
    const built = await varsOf(enabled.job_id)
    const hash = (await storedHash(stagingId))!
    expect(built.vars).toMatchObject({ environment_type: 'staging', basic_auth_enabled: true, basic_auth_htpasswd: `reviewer:${hash}`, node_public_ip: '192.0.2.10' })
    expect(built.secrets).toContain(hash)
    expect(JSON.stringify(built.vars)).not.toContain(PASSWORD)
    // Other jobs that render the server blocks (here a cache toggle) carry the same setting.
    const toggle = await (await cp.request('PATCH', `/api/environments/${stagingId}/cache`, { fastcgi_cache_enabled: false })).json()
    expect((await varsOf(toggle.job_id)).vars).toMatchObject({ basic_auth_enabled: true, basic_auth_htpasswd: `reviewer:${hash}` })

    const disabled = await (await put(stagingId, { enabled: false })).json()
    expect((await varsOf(disabled.job_id)).vars).toMatchObject({ basic_auth_enabled: false, basic_auth_htpasswd: '' })
    const production = await (await put(site.productionId, { enabled: false })).json()
    expect((await varsOf(production.job_id)).vars).toMatchObject({ environment_type: 'production', basic_auth_enabled: false })
  })

  it('fails the job rather than serve the environment unprotected when the stored hash is gone', async () => {
    const { job_id } = await (await put(stagingId, { enabled: true, username: 'reviewer', password: PASSWORD })).json()
    cp.services.secrets.delete((await authRow(stagingId)).basic_auth_password_ref!.slice('secret:'.length))
    await expect(varsOf(job_id)).rejects.toThrow(/basic auth of environment .* is enabled but its credentials are missing/)
  })
})
