import fs from 'node:fs'
import os from 'node:os'
import net from 'node:net'
import { describe, it, expect, beforeEach, afterEach } from 'vitest'
import { createTestControlPlane, type TestControlPlane } from '../support/control-plane.js'
import { insertActiveNode, createActiveSite, auditsFor, row, expectError, type SeededSite } from '../support/seed.js'
import { magicLoginCommand, parseMagicLoginOutput, UnsafeQueryInputError } from '../../runtime/ssh/node-query.js'

/** A TCP port on 127.0.0.1 that nothing listens on. */
async function closedPort(): Promise<number> {
  const server = net.createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as net.AddressInfo
  await new Promise<void>((resolve) => server.close(() => resolve()))
  return port
}

/** A local server that greets like sshd and then never answers, so only the 10 s kill can end the call. */
async function silentSshServer(): Promise<{ port: number; close: () => Promise<void> }> {
  const sockets = new Set<net.Socket>()
  const server = net.createServer((socket) => {
    sockets.add(socket)
    socket.on('error', () => undefined)
    socket.write('SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n')
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    port: (server.address() as net.AddressInfo).port,
    close: () => new Promise<void>((resolve) => { for (const s of sockets) s.destroy(); server.close(() => resolve()) }),
  }
}

const tempKeyDirs = () => fs.readdirSync(os.tmpdir()).filter((name) => name.startsWith('pressluft-node-query-'))

describe('POST /api/environments/{id}/magic-login', () => {
  let cp: TestControlPlane
  let site: SeededSite
  beforeEach(async () => { cp = await createTestControlPlane(); await cp.login() })
  afterEach(async () => { await cp.close() })

  async function siteOnLocalPort(port: number): Promise<SeededSite> {
    await insertActiveNode(cp, { hostname: '127.0.0.1', public_ip: '127.0.0.1', ssh_port: port })
    return createActiveSite(cp, 'shop')
  }

  it('answers 502 node_unreachable when ssh cannot connect, audits the failure and leaves no key file behind', async () => {
    site = await siteOnLocalPort(await closedPort())
    const before = tempKeyDirs().length
    const started = Date.now()
    const body = await expectError(await cp.request('POST', `/api/environments/${site.productionId}/magic-login`), 502, 'node_unreachable')
    expect(Date.now() - started).toBeLessThan(5000)
    expect(JSON.stringify(body)).not.toMatch(/refused|ssh:/i)
    expect(tempKeyDirs().length).toBe(before)
    const [audit] = await auditsFor(cp, 'magic_login')
    expect(audit).toMatchObject({ resource_type: 'environment', resource_id: site.productionId, result: 'failed', job_id: null })
    expect(audit.details).toEqual({ code: 'node_unreachable' })
    expect((await row<{ last_seen_at: string | null }>(cp, 'SELECT last_seen_at FROM nodes')).last_seen_at).toBeNull()
    expect(await row<{ n: number }>(cp, 'SELECT COUNT(*) AS n FROM jobs WHERE status = ?', ['queued'])).toEqual({ n: 0 })
  })

  it('kills ssh after 10 s when the node never answers and answers 502 node_unreachable', async () => {
    const server = await silentSshServer()
    try {
      site = await siteOnLocalPort(server.port)
      const started = Date.now()
      await expectError(await cp.request('POST', `/api/environments/${site.productionId}/magic-login`), 502, 'node_unreachable')
      const elapsed = Date.now() - started
      expect(elapsed).toBeGreaterThanOrEqual(9_500)
      expect(elapsed).toBeLessThan(13_000)
      expect((await auditsFor(cp, 'magic_login'))[0]).toMatchObject({ result: 'failed' })
    } finally {
      await server.close()
    }
  }, 30_000)

  it('answers 409 environment_not_active (audited) without contacting the node, and 404 for unknown environments', async () => {
    site = await siteOnLocalPort(await closedPort())
    await cp.services.db.execute({ sql: "UPDATE environments SET status = 'deploying'", args: [] })
    const body = await expectError(await cp.request('POST', `/api/environments/${site.productionId}/magic-login`), 409, 'environment_not_active')
    expect(body.details).toMatchObject({ status: 'deploying' })
    expect((await auditsFor(cp, 'magic_login'))[0].details).toEqual({ code: 'environment_not_active' })
    await expectError(await cp.request('POST', `/api/environments/${crypto.randomUUID()}/magic-login`), 404, 'not_found')
    await expectError(await cp.request('POST', '/api/environments/xyz/magic-login'), 400, 'bad_request')
    expect(await auditsFor(cp, 'magic_login')).toHaveLength(1)
  })
})

describe('magic-login node query building blocks', () => {
  const env = { id: '1a2b3c4d-0000-4000-8000-000000000001', site_id: '9f8e7d6c-0000-4000-8000-000000000002', slug: 'production' }

  it('builds the fixed remote command from checked database values only', () => {
    expect(magicLoginCommand(env)).toBe(
      'sudo -n -u wp_1a2b3c4d -- php /usr/local/lib/pressluft/pl-wp.php --root=/var/www/sites/9f8e7d6c-0000-4000-8000-000000000002/production/current magic-login-token')
    expect(() => magicLoginCommand({ ...env, slug: 'x; rm -rf /' })).toThrow(UnsafeQueryInputError)
    expect(() => magicLoginCommand({ ...env, site_id: '../../etc' })).toThrow(UnsafeQueryInputError)
    expect(() => magicLoginCommand({ ...env, id: 'ZZZZZZZZ-0000-4000-8000-000000000001' })).toThrow(UnsafeQueryInputError)
  })

  it('accepts only the helper JSON line with a token and an expiry', () => {
    expect(parseMagicLoginOutput('{"ok":true,"token":"abcDEF0123456789_-xyz","expires_at":"2026-03-01T10:00:00Z"}'))
      .toEqual({ token: 'abcDEF0123456789_-xyz', expires_at: '2026-03-01T10:00:00.000Z' })
    expect(parseMagicLoginOutput('{"ok":true,"token":"abcDEF0123456789","expires_at":1772359260}')?.expires_at).toBe(new Date(1772359260 * 1000).toISOString())
    for (const output of ['', 'Warning: php\n', '{"ok":false,"error":{"code":"x","message":"y"}}', '{"ok":true,"token":"short","expires_at":"2026-03-01T10:00:00Z"}',
      '{"ok":true,"token":"abcDEF0123456789<script>","expires_at":"2026-03-01T10:00:00Z"}', '{"ok":true,"token":"abcDEF0123456789","expires_at":"soon"}']) {
      expect(parseMagicLoginOutput(output), output).toBeNull()
    }
  })
})
