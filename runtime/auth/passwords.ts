// scrypt password hashes in the form scrypt$17$8$1$<salt>$<hash> (docs/architecture.md "Security rules the code enforces"), verified in constant time.
import crypto from 'node:crypto'
import { promisify } from 'node:util'

const scrypt = promisify(crypto.scrypt) as (password: string, salt: Buffer, keylen: number, options: crypto.ScryptOptions) => Promise<Buffer>
const KEY_LENGTH = 64
const MAXMEM = 256 * 1024 * 1024

export interface ScryptParams { logN: number; r: number; p: number }
export const DEFAULT_PARAMS: ScryptParams = { logN: 17, r: 8, p: 1 }

export async function hashPassword(password: string, params: ScryptParams = DEFAULT_PARAMS): Promise<string> {
  const salt = crypto.randomBytes(16)
  const key = await scrypt(password, salt, KEY_LENGTH, { N: 2 ** params.logN, r: params.r, p: params.p, maxmem: MAXMEM })
  return `scrypt$${params.logN}$${params.r}$${params.p}$${salt.toString('base64url')}$${key.toString('base64url')}`
}

export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const parts = stored.split('$')
  if (parts.length !== 6 || parts[0] !== 'scrypt') return false
  const [logN, r, p] = parts.slice(1, 4).map(Number)
  if (![logN, r, p].every(Number.isInteger) || logN < 1 || logN > 20) return false
  const salt = Buffer.from(parts[4], 'base64url')
  const expected = Buffer.from(parts[5], 'base64url')
  const key = await scrypt(password, salt, expected.length, { N: 2 ** logN, r, p, maxmem: MAXMEM })
  return key.length === expected.length && crypto.timingSafeEqual(key, expected)
}
