import { describe, it, expect } from 'vitest'
import { hashPassword, verifyPassword } from '../../runtime/auth/passwords.js'

describe('password hashing', () => {
  it('uses scrypt N=2^17, r=8, p=1 with a 16-byte salt and 64-byte key by default', async () => {
    const hash = await hashPassword('correct horse battery staple')
    const [scheme, logN, r, p, salt, key] = hash.split('$')
    expect([scheme, logN, r, p]).toEqual(['scrypt', '17', '8', '1'])
    expect(Buffer.from(salt, 'base64url')).toHaveLength(16)
    expect(Buffer.from(key, 'base64url')).toHaveLength(64)
    expect(await verifyPassword('correct horse battery staple', hash)).toBe(true)
    expect(await verifyPassword('wrong', hash)).toBe(false)
  })

  it('gives two hashes of the same password different salts', async () => {
    const params = { logN: 10, r: 8, p: 1 }
    expect(await hashPassword('same password!', params)).not.toBe(await hashPassword('same password!', params))
  })

  it('rejects malformed stored hashes instead of throwing', async () => {
    expect(await verifyPassword('x', 'plain-text')).toBe(false)
    expect(await verifyPassword('x', 'scrypt$99$8$1$AAAA$BBBB')).toBe(false)
  })
})
