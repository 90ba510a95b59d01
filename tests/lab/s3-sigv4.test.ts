// The lab's S3 server checks Signature V4: rclone (a real S3 client) gets in with the right secret, gets 403
// SignatureDoesNotMatch with a wrong one, and presigned URLs work only while their signature is intact.
import { mkdtempSync, rmSync, writeFileSync, readFileSync } from 'node:fs'
import { randomBytes } from 'node:crypto'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { execa } from 'execa'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startDaemon, stopProcess, waitForTcp, type ProcessRecord } from './processes.js'

const here = path.dirname(fileURLToPath(import.meta.url))
const scratch = mkdtempSync(path.join(tmpdir(), 'pressluft-s3-sigv4-'))
const port = 20000 + Math.floor(Math.random() * 20000)
const bucket = 'sigv4-test'
const keyId = `LAB${randomBytes(8).toString('hex').toUpperCase()}`
const secret = randomBytes(24).toString('base64url')
let server: ProcessRecord

function rclone(args: string[], secretKey = secret) {
  return execa('rclone', args, {
    reject: false,
    // Only these variables: the host's AWS_CA_BUNDLE and proxy settings must not reach the client.
    env: {
      PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: scratch, RCLONE_CONFIG: '/dev/null',
      RCLONE_CONFIG_LAB_TYPE: 's3', RCLONE_CONFIG_LAB_PROVIDER: 'Other', RCLONE_CONFIG_LAB_ENDPOINT: `http://127.0.0.1:${port}`,
      RCLONE_CONFIG_LAB_REGION: 'us-east-1', RCLONE_CONFIG_LAB_FORCE_PATH_STYLE: 'true',
      RCLONE_CONFIG_LAB_ACCESS_KEY_ID: keyId, RCLONE_CONFIG_LAB_SECRET_ACCESS_KEY: secretKey,
    },
    extendEnv: false,
  })
}

beforeAll(async () => {
  server = await startDaemon(process.execPath,
    ['--import', 'tsx', path.join(here, 's3-server.ts'), '127.0.0.1', String(port), path.join(scratch, 'data'), bucket, keyId, secret],
    { logFile: path.join(scratch, 's3rver.log'), cwd: path.resolve(here, '../..') })
  await waitForTcp('127.0.0.1', port, 's3rver', server)
  writeFileSync(path.join(scratch, 'small.txt'), 'hello sigv4\n')
  writeFileSync(path.join(scratch, 'large.bin'), randomBytes(12 * 1024 * 1024))
})

afterAll(async () => {
  await stopProcess(server)
  rmSync(scratch, { recursive: true, force: true })
})

describe('lab S3 server Signature V4 check', () => {
  it('accepts rclone uploads (single-part and multipart), listings and downloads signed with the right secret', async () => {
    const small = await rclone(['copyto', path.join(scratch, 'small.txt'), `lab:${bucket}/dir/small.txt`])
    expect(small.exitCode, small.stderr).toBe(0)
    // Below the cutoff rclone sends one PUT; above it a multipart upload (create, parts, complete).
    const large = await rclone(['copyto', '--s3-upload-cutoff', '5M', '--s3-chunk-size', '5M', path.join(scratch, 'large.bin'), `lab:${bucket}/dir/large bin+x.bin`])
    expect(large.exitCode, large.stderr).toBe(0)
    const list = await rclone(['lsjson', `lab:${bucket}/dir`])
    expect(list.exitCode, list.stderr).toBe(0)
    const entries = (JSON.parse(list.stdout) as { Name: string; Size: number }[]).map((e) => [e.Name, e.Size]).sort()
    expect(entries).toEqual([['large bin+x.bin', 12 * 1024 * 1024], ['small.txt', 12]])
    const downloaded = path.join(scratch, 'large.back')
    const get = await rclone(['copyto', `lab:${bucket}/dir/large bin+x.bin`, downloaded])
    expect(get.exitCode, get.stderr).toBe(0)
    expect(readFileSync(downloaded).equals(readFileSync(path.join(scratch, 'large.bin')))).toBe(true)
  })

  it('answers 403 SignatureDoesNotMatch to rclone signing with a wrong secret, and writes nothing', async () => {
    const wrong = `${secret.slice(0, -1)}${secret.endsWith('A') ? 'B' : 'A'}`
    const list = await rclone(['lsf', '--retries', '1', '--low-level-retries', '1', `lab:${bucket}/dir`], wrong)
    expect(list.exitCode).not.toBe(0)
    expect(list.stderr).toMatch(/SignatureDoesNotMatch/)
    expect(list.stderr).toMatch(/403/)
    const put = await rclone(['copyto', '--retries', '1', '--low-level-retries', '1', path.join(scratch, 'small.txt'), `lab:${bucket}/dir/intruder.txt`], wrong)
    expect(put.exitCode).not.toBe(0)
    // rclone starts an upload with a HEAD of the object: a 403 without a body, as real S3 answers it.
    expect(put.stderr).toMatch(/status code: 403/)
    const after = await rclone(['lsf', `lab:${bucket}/dir`])
    expect(after.stdout.split('\n').filter(Boolean).sort()).toEqual(['large bin+x.bin', 'small.txt'])
  })

  it('serves a presigned URL as signed, and refuses it with one signature character changed or without any signature', async () => {
    const link = await rclone(['link', '--expire', '1h', `lab:${bucket}/dir/small.txt`])
    expect(link.exitCode, link.stderr).toBe(0)
    const url = link.stdout.trim()
    expect(url).toMatch(/X-Amz-Signature=[0-9a-f]{64}/)
    const ok = await fetch(url)
    expect(ok.status).toBe(200)
    expect(await ok.text()).toBe('hello sigv4\n')

    const tampered = url.replace(/(X-Amz-Signature=[0-9a-f]{63})([0-9a-f])/, (_, head: string, last: string) => head + (last === '0' ? '1' : '0'))
    const bad = await fetch(tampered)
    expect(bad.status).toBe(403)
    expect(await bad.text()).toContain('<Code>SignatureDoesNotMatch</Code>')

    const anonymous = await fetch(`http://127.0.0.1:${port}/${bucket}/dir/small.txt`)
    expect(anonymous.status).toBe(403)
    expect(await anonymous.text()).toContain('<Code>AccessDenied</Code>')
  })
})
