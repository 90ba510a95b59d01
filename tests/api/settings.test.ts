import fs from 'node:fs'
import path from 'node:path'
import { describe, it, expect, beforeEach, afterEach } from 'vitest'
import { createTestControlPlane, type TestControlPlane } from '../support/control-plane.js'
import { auditsFor, count, row, expectError, BACKUP_SETTINGS } from '../support/seed.js'

describe('/_admin/settings', () => {
  let cp: TestControlPlane
  beforeEach(async () => { cp = await createTestControlPlane(); await cp.login() })
  afterEach(async () => { await cp.close() })

  it('shows defaults, secrets only as {set} and the control plane SSH public key', async () => {
    const res = await cp.request('GET', '/_admin/settings')
    expect(res.status).toBe(200)
    expect(await res.json()).toEqual({
      control_plane_domain: null, preview_domain: null, dns01_provider: null, dns01_credentials_json: { set: false },
      backup_s3_endpoint: null, backup_s3_region: 'us-east-1', backup_s3_bucket: null, backup_s3_access_key_id: null,
      backup_s3_secret_access_key: { set: false }, backup_retention_days: 30, hetzner_api_token: { set: false },
      hetzner_api_base_url: 'https://api.hetzner.cloud/v1', import_allowed_sources: null,
      ssh_public_key: expect.stringMatching(/^ssh-ed25519 [A-Za-z0-9+/=]+ /),
    })
  })

  it('stores import_allowed_sources as plain text, validates each entry and clears it with null', async () => {
    const value = '198.18.0.1, 10.20.0.0/16, archives.example.com, fd12:3456::/32'
    const res = await cp.request('PATCH', '/_admin/settings', { import_allowed_sources: value })
    expect(res.status).toBe(200)
    expect(await res.json()).toMatchObject({ import_allowed_sources: value })
    expect(await row(cp, "SELECT value FROM settings WHERE key = 'import_allowed_sources'")).toEqual({ value })
    const [audit] = await auditsFor(cp, 'settings_update')
    expect(audit.details).toEqual({ keys: ['import_allowed_sources'] })
    for (const [bad, message] of [['10.0.0.1/8', /host bits/], ['127.0.0.1', /cannot be allowed/], ['169.254.169.254', /cannot be allowed/],
      ['localhost', /cannot be allowed/], ['Files.Example.com', /lowercase host name/], ['10.0.0.0/40', /prefix/], ['', /at least one/],
      ['{{ x }}', /must not contain/]] as const) {
      const err = await expectError(await cp.request('PATCH', '/_admin/settings', { import_allowed_sources: bad }), 400, 'settings_invalid')
      expect([bad, (err.details!.fields as Record<string, string>).import_allowed_sources]).toEqual([bad, expect.stringMatching(message)])
    }
    expect(await (await cp.request('GET', '/_admin/settings')).json()).toMatchObject({ import_allowed_sources: value })
    expect(await (await cp.request('PATCH', '/_admin/settings', { import_allowed_sources: null })).json()).toMatchObject({ import_allowed_sources: null })
    expect(await count(cp, 'settings')).toBe(0)
  })

  it('stores secrets only in the secrets store, returns {set: true} and audits the changed keys without values', async () => {
    const res = await cp.request('PATCH', '/_admin/settings', { ...BACKUP_SETTINGS, backup_s3_region: 'eu-central-1', hetzner_api_token: 'hcloud-secret-token' })
    expect(res.status).toBe(200)
    const text = await res.text()
    expect(text).not.toContain(BACKUP_SETTINGS.backup_s3_secret_access_key)
    expect(text).not.toContain('hcloud-secret-token')
    expect(JSON.parse(text)).toMatchObject({
      backup_s3_endpoint: BACKUP_SETTINGS.backup_s3_endpoint, backup_s3_bucket: 'pressluft-backups', backup_s3_region: 'eu-central-1',
      backup_s3_secret_access_key: { set: true }, hetzner_api_token: { set: true }, dns01_credentials_json: { set: false },
    })
    const stored = await row<{ value: string }>(cp, "SELECT value FROM settings WHERE key = 'backup_s3_secret_access_key'")
    expect(stored.value).toBe('secret:settings/backup_s3_secret_access_key')
    expect(await cp.services.secrets.get('settings/backup_s3_secret_access_key')).toBe(BACKUP_SETTINGS.backup_s3_secret_access_key)
    const rawFile = fs.readFileSync(path.join(cp.config.secretsDir, 'settings', 'hetzner_api_token.jwe'), 'utf8')
    expect(rawFile).not.toContain('hcloud-secret-token')

    const [audit] = await auditsFor(cp, 'settings_update')
    expect(audit).toMatchObject({ resource_type: 'settings', resource_id: 'settings', result: 'succeeded' })
    expect((audit.details!.keys as string[]).sort()).toEqual([...Object.keys(BACKUP_SETTINGS), 'backup_s3_region', 'hetzner_api_token'].sort())
    expect(audit.details_json).not.toContain('hcloud-secret-token')
    expect(cp.logLines.join('\n')).not.toContain('hcloud-secret-token')

    // Unchanged values are not reported as changed.
    await cp.request('PATCH', '/_admin/settings', { hetzner_api_token: 'hcloud-secret-token', backup_s3_region: 'eu-central-1', backup_retention_days: 14 })
    expect((await auditsFor(cp, 'settings_update'))[1].details).toEqual({ keys: ['backup_retention_days'] })
  })

  it('clears keys with null, deleting the secret value and falling back to defaults', async () => {
    await cp.request('PATCH', '/_admin/settings', { hetzner_api_token: 'hcloud-secret-token', backup_s3_region: 'eu-west-1', backup_retention_days: 3 })
    const res = await cp.request('PATCH', '/_admin/settings', { hetzner_api_token: null, backup_s3_region: null, backup_retention_days: null })
    expect(res.status).toBe(200)
    expect(await res.json()).toMatchObject({ hetzner_api_token: { set: false }, backup_s3_region: 'us-east-1', backup_retention_days: 30 })
    expect(await count(cp, 'settings')).toBe(0)
    expect(cp.services.secrets.has('settings/hetzner_api_token')).toBe(false)
  })

  it('validates the merged result: backup storage all-or-nothing and preview_domain needing DNS-01', async () => {
    const partial = await expectError(await cp.request('PATCH', '/_admin/settings', { backup_s3_endpoint: 'https://s3.example.com', backup_s3_bucket: 'b-1' }), 400, 'settings_invalid')
    expect(Object.keys(partial.details!.fields).sort()).toEqual(['backup_s3_access_key_id', 'backup_s3_secret_access_key'])
    const preview = await expectError(await cp.request('PATCH', '/_admin/settings', { preview_domain: 'preview.example.com' }), 400, 'settings_invalid')
    expect(Object.keys(preview.details!.fields).sort()).toEqual(['dns01_credentials_json', 'dns01_provider'])
    expect(await count(cp, 'settings')).toBe(0)
    expect(await auditsFor(cp, 'settings_update')).toHaveLength(0)

    expect((await cp.request('PATCH', '/_admin/settings', BACKUP_SETTINGS)).status).toBe(200)
    const clearOne = await expectError(await cp.request('PATCH', '/_admin/settings', { backup_s3_secret_access_key: null }), 400, 'settings_invalid')
    expect(Object.keys(clearOne.details!.fields)).toEqual(['backup_s3_secret_access_key'])
    expect(cp.services.secrets.has('settings/backup_s3_secret_access_key')).toBe(true)
  })

  it('rejects invalid values with settings_invalid naming each field', async () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ control_plane_domain: 'Not A Host' }, 'control_plane_domain'],
      [{ control_plane_domain: '192.0.2.1' }, 'control_plane_domain'],
      [{ dns01_provider: 'hetzner' }, 'dns01_provider'],
      [{ dns01_credentials_json: '[1,2]' }, 'dns01_credentials_json'],
      [{ dns01_credentials_json: '{"token": 5}' }, 'dns01_credentials_json'],
      [{ dns01_credentials_json: '{"Bad-Key": "x"}' }, 'dns01_credentials_json'],
      [{ dns01_credentials_json: `{"k": "${'x'.repeat(9000)}"}` }, 'dns01_credentials_json'],
      [{ hetzner_api_base_url: 'ftp://api.example.com' }, 'hetzner_api_base_url'],
      [{ backup_retention_days: 0 }, 'backup_retention_days'],
      [{ backup_retention_days: 3651 }, 'backup_retention_days'],
      [{ ...BACKUP_SETTINGS, backup_s3_bucket: 'UPPER' }, 'backup_s3_bucket'],
      [{ ...BACKUP_SETTINGS, backup_s3_endpoint: 'https://user:pw@s3.example.com' }, 'backup_s3_endpoint'],
      [{ hetzner_api_token: 'has space' }, 'hetzner_api_token'],
      [{ backup_s3_region: '{{ evil }}' }, 'backup_s3_region'],
      [{ control_plane_domain: 'same.example.com', preview_domain: 'same.example.com', dns01_provider: 'cloudflare', dns01_credentials_json: '{"a":"b"}' }, 'preview_domain'],
      [{ dns01_provider: 'rfc2136', dns01_credentials_json: '{"dns_rfc2136_server":"192.0.2.53","dns_rfc2136_secret":"s"}' }, 'dns01_credentials_json'],
      [{ dns01_provider: 'rfc2136', dns01_credentials_json: '{"dns_rfc2136_server":"192.0.2.53","dns_rfc2136_name":"k.","dns_rfc2136_secret":"s","dns_rfc2136_port":"70000"}' }, 'dns01_credentials_json'],
      [{ dns01_provider: 'rfc2136', dns01_credentials_json: '{"dns_rfc2136_server":"192.0.2.53","dns_rfc2136_name":"k.","dns_rfc2136_secret":"s","dns_rfc2136_algorithm":"rot13"}' }, 'dns01_credentials_json'],
    ]
    for (const [body, field] of cases) {
      const res = await expectError(await cp.request('PATCH', '/_admin/settings', body), 400, 'settings_invalid')
      expect(Object.keys(res.details!.fields), JSON.stringify(body).slice(0, 80)).toContain(field)
    }
    expect(await count(cp, 'settings')).toBe(0)
  })

  it('answers 400 bad_request for unknown keys, wrong types and empty secrets, and 401 without a session', async () => {
    for (const body of [{ unknown_key: 'x' }, { backup_retention_days: '30' }, { hetzner_api_token: '' }, { control_plane_domain: 5 }]) {
      await expectError(await cp.request('PATCH', '/_admin/settings', body), 400, 'bad_request')
    }
    await expectError(await cp.request('GET', '/_admin/settings', undefined, { cookie: '' }), 401, 'unauthorized')
    await expectError(await cp.request('PATCH', '/_admin/settings', { backup_retention_days: 5 }, { cookie: '' }), 401, 'unauthorized')
  })

  it('accepts a complete DNS-01 preview setup', async () => {
    const res = await cp.request('PATCH', '/_admin/settings', {
      preview_domain: 'preview.example.com', dns01_provider: 'rfc2136', control_plane_domain: 'panel.example.com',
      dns01_credentials_json: JSON.stringify({ dns_rfc2136_server: '192.0.2.53', dns_rfc2136_name: 'pressluft.', dns_rfc2136_secret: 's3cr3t' }),
    })
    expect(res.status).toBe(200)
    expect(await res.json()).toMatchObject({ preview_domain: 'preview.example.com', dns01_provider: 'rfc2136', dns01_credentials_json: { set: true }, control_plane_domain: 'panel.example.com' })
  })
})
