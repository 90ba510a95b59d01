// Encrypted secrets store: one JWE (dir + A256GCM) file per secret under PRESSLUFT_SECRETS_DIR, key in master.key (0600).
import fs from 'node:fs'
import path from 'node:path'
import crypto from 'node:crypto'
import { CompactEncrypt, compactDecrypt, decodeProtectedHeader } from 'jose'

const NAME_RE = /^[a-z0-9_.-]+(?:\/[a-z0-9_.-]+)*$/i

export class SecretsError extends Error {}

export class SecretStore {
  private constructor(private readonly dir: string, private readonly key: Uint8Array, private readonly kid: string) {}

  /** Opens the store, creating the directory and key on first start; refuses a readable key or a lost key. */
  static open(dir: string): SecretStore {
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 })
    fs.chmodSync(dir, 0o700)
    const keyFile = path.join(dir, 'master.key')
    if (!fs.existsSync(keyFile)) {
      if (listSecretFiles(dir).length > 0) {
        throw new SecretsError(`${keyFile} is missing but secrets exist in ${dir}; refusing to generate a new key (restore the key file)`)
      }
      fs.writeFileSync(keyFile, crypto.randomBytes(32), { mode: 0o600, flag: 'wx' })
    }
    const stat = fs.statSync(keyFile)
    if ((stat.mode & 0o077) !== 0) throw new SecretsError(`${keyFile} is accessible by group or others (mode ${(stat.mode & 0o777).toString(8)}); chmod 600 it`)
    const key = fs.readFileSync(keyFile)
    if (key.length !== 32) throw new SecretsError(`${keyFile} must hold 32 bytes`)
    const kid = crypto.createHash('sha256').update(key).digest('hex').slice(0, 16)
    return new SecretStore(dir, new Uint8Array(key), kid)
  }

  private fileFor(name: string): string {
    if (!NAME_RE.test(name) || name.split('/').includes('..')) throw new SecretsError(`invalid secret name "${name}"`)
    return path.join(this.dir, `${name}.jwe`)
  }

  async set(name: string, value: string): Promise<void> {
    const file = this.fileFor(name)
    const jwe = await new CompactEncrypt(new TextEncoder().encode(value))
      .setProtectedHeader({ alg: 'dir', enc: 'A256GCM', kid: this.kid, pl_name: name })
      .encrypt(this.key)
    fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 })
    const temp = `${file}.${process.pid}.${crypto.randomBytes(4).toString('hex')}.tmp`
    fs.writeFileSync(temp, jwe, { mode: 0o600 })
    fs.renameSync(temp, file)
  }

  async get(name: string): Promise<string | null> {
    const file = this.fileFor(name)
    if (!fs.existsSync(file)) return null
    const jwe = fs.readFileSync(file, 'utf8').trim()
    const header = decodeProtectedHeader(jwe)
    if (header.pl_name !== name) throw new SecretsError(`secret file ${file} belongs to "${String(header.pl_name)}", not "${name}"`)
    const { plaintext } = await compactDecrypt(jwe, this.key)
    return new TextDecoder().decode(plaintext)
  }

  has(name: string): boolean {
    return fs.existsSync(this.fileFor(name))
  }

  delete(name: string): void {
    fs.rmSync(this.fileFor(name), { force: true })
  }
}

function listSecretFiles(dir: string): string[] {
  if (!fs.existsSync(dir)) return []
  return (fs.readdirSync(dir, { recursive: true }) as string[]).filter((f) => f.endsWith('.jwe'))
}
