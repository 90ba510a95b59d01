// The control plane's ed25519 SSH identity: generated once with ssh-keygen, kept only in the secrets store.
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import type { SecretStore } from '../secrets/secret-store.js'

export const PRIVATE_KEY_SECRET = 'ssh/control-plane'
export const PUBLIC_KEY_SECRET = 'ssh/control-plane.pub'

export async function ensureControlPlaneKey(secrets: SecretStore): Promise<string> {
  const existing = await secrets.get(PUBLIC_KEY_SECRET)
  if (existing && secrets.has(PRIVATE_KEY_SECRET)) return existing
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pressluft-keygen-'))
  try {
    const keyFile = path.join(dir, 'id_ed25519')
    const { execa } = await import('execa') // loaded on first use, see docs/performance.md ("API", memory)
    await execa('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'pressluft-control-plane', '-f', keyFile])
    const publicKey = fs.readFileSync(`${keyFile}.pub`, 'utf8').trim()
    await secrets.set(PRIVATE_KEY_SECRET, fs.readFileSync(keyFile, 'utf8'))
    await secrets.set(PUBLIC_KEY_SECRET, publicKey)
    return publicKey
  } finally {
    fs.rmSync(dir, { recursive: true, force: true })
  }
}
