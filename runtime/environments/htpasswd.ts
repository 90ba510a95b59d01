// Password hashes for the nginx basic auth of an environment: SHA-512 crypt ($6$), the scheme of Ulrich Drepper's
// "Unix crypt using SHA-256 and SHA-512" specification, which nginx on Debian 12 checks through the system's crypt().
// Default 5000 rounds on purpose: nginx verifies the hash on every request inside its worker, so a slow hash (bcrypt
// at a useful cost) would stall the worker for every image and stylesheet (docs/decisions.md "Staging protection").
import crypto from 'node:crypto'

const ALPHABET = './0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz'
const ROUNDS_DEFAULT = 5000
/** Byte order of the encoded digest (the specification's table for SHA-512), three bytes to four characters. */
const ORDER: [number, number, number][] = [
  [0, 21, 42], [22, 43, 1], [44, 2, 23], [3, 24, 45], [25, 46, 4], [47, 5, 26], [6, 27, 48], [28, 49, 7], [50, 8, 29],
  [9, 30, 51], [31, 52, 10], [53, 11, 32], [12, 33, 54], [34, 55, 13], [56, 14, 35], [15, 36, 57], [37, 58, 16],
  [59, 17, 38], [18, 39, 60], [40, 61, 19], [62, 20, 41],
]

const sha512 = (...parts: Buffer[]) => {
  const h = crypto.createHash('sha512')
  for (const part of parts) h.update(part)
  return h.digest()
}

/** `length` bytes of `block` repeated. */
function repeatTo(block: Buffer, length: number): Buffer {
  const out = Buffer.alloc(length)
  for (let i = 0; i < length; i += block.length) block.copy(out, i, 0, Math.min(block.length, length - i))
  return out
}

function encode24(b2: number, b1: number, b0: number, chars: number): string {
  let w = (b2 << 16) | (b1 << 8) | b0
  let out = ''
  for (let i = 0; i < chars; i++) {
    out += ALPHABET[w & 0x3f]
    w >>= 6
  }
  return out
}

/** SHA-512 crypt of `password` with `salt` (at most 16 characters are used, as the specification says). */
export function sha512Crypt(password: string, salt: string, rounds = ROUNDS_DEFAULT): string {
  const p = Buffer.from(password, 'utf8')
  const s = Buffer.from(salt.slice(0, 16), 'utf8')
  const b = sha512(p, s, p)
  const aParts = [p, s, repeatTo(b, p.length)]
  for (let n = p.length; n > 0; n >>= 1) aParts.push(n & 1 ? b : p)
  let c = sha512(...aParts)
  const pBytes = repeatTo(sha512(...Array<Buffer>(p.length).fill(p)), p.length)
  const sBytes = repeatTo(sha512(...Array<Buffer>(16 + c[0]).fill(s)), s.length)
  for (let i = 0; i < rounds; i++) {
    const parts: Buffer[] = [i & 1 ? pBytes : c]
    if (i % 3 !== 0) parts.push(sBytes)
    if (i % 7 !== 0) parts.push(pBytes)
    parts.push(i & 1 ? c : pBytes)
    c = sha512(...parts)
  }
  let out = ''
  for (const [x, y, z] of ORDER) out += encode24(c[x], c[y], c[z], 4)
  out += encode24(0, 0, c[63], 2)
  const roundsPart = rounds === ROUNDS_DEFAULT ? '' : `rounds=${rounds}$`
  return `$6$${roundsPart}${s.toString('utf8')}$${out}`
}

/** A new hash with a random 16-character salt. */
export function hashBasicAuthPassword(password: string): string {
  let salt = ''
  for (let i = 0; i < 16; i++) salt += ALPHABET[crypto.randomInt(ALPHABET.length)]
  return sha512Crypt(password, salt)
}
