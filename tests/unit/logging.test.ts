import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { Writable } from 'node:stream'
import { describe, it, expect } from 'vitest'
import { createLogger } from '../../runtime/logging.js'
import { findLeakedSecrets } from '../support/log-audit.js'

function capture() {
  const lines: string[] = []
  const sink = new Writable({ write(chunk, _e, cb) { lines.push(String(chunk)); cb() } })
  return { lines, logger: createLogger('info', sink) }
}

describe('log redaction', () => {
  it('censors passwords, tokens, cookies and settings secrets by path', () => {
    const { lines, logger } = capture()
    logger.info({
      password: 'p4ssw0rd-value', session_token: 'tok-value-123', user: { password_hash: 'scrypt$x', token: 'nested-token' },
      req: { headers: { cookie: 'session_token=abc', authorization: 'Bearer xyz' } },
      settings: { hetzner_api_token: 'htz-secret', backup_s3_secret_access_key: 's3-secret', dns01_credentials_json: '{"k":"v"}' },
      key: { private_key: '-----BEGIN OPENSSH PRIVATE KEY-----' },
    }, 'event')
    const text = lines.join('')
    for (const secret of ['p4ssw0rd-value', 'tok-value-123', 'scrypt$x', 'nested-token', 'session_token=abc', 'Bearer xyz', 'htz-secret', 's3-secret', '{"k":"v"}', 'BEGIN OPENSSH']) {
      expect(text).not.toContain(secret)
    }
    expect(text).toContain('[REDACTED]')
  })

  it('the end-of-run log check finds a secret that reached a log file', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pressluft-logcheck-'))
    fs.writeFileSync(path.join(dir, 'secrets-1.txt'), `${JSON.stringify('super-secret-value')}\n`)
    fs.writeFileSync(path.join(dir, 'logs-1.ndjson'), '{"msg":"clean"}\n')
    expect(findLeakedSecrets(dir)).toEqual([])
    fs.appendFileSync(path.join(dir, 'logs-1.ndjson'), '{"msg":"oops super-secret-value"}\n')
    expect(findLeakedSecrets(dir)).toHaveLength(1)
    fs.rmSync(dir, { recursive: true, force: true })
  })
})
