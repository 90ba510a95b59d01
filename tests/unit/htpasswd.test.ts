// SHA-512 crypt of the basic auth passwords (runtime/environments/htpasswd.ts): the test vectors of the specification
// ("Unix crypt using SHA-256 and SHA-512", Ulrich Drepper) and the same hash as the system's `openssl passwd -6`.
import { execFileSync } from 'node:child_process'
import { describe, expect, it } from 'vitest'
import { hashBasicAuthPassword, sha512Crypt } from '../../runtime/environments/htpasswd.js'

describe('sha512Crypt', () => {
  it('reproduces the specification\'s test vectors', () => {
    expect(sha512Crypt('Hello world!', 'saltstring'))
      .toBe('$6$saltstring$svn8UoSVapNtMuq1ukKS4tPQd8iKwSMHWjl/O817G3uBnIFNjnQJuesI68u4OTLiBFdcbYEdFCoEOfaS35inz1')
    expect(sha512Crypt('Hello world!', 'saltstringsaltstring', 10000))
      .toBe('$6$rounds=10000$saltstringsaltst$OW1/O6BYHV6BcXZu8QVeXbDWra3Oeqh0sbHbbMCVNSnCM/UrjmM0Dp8vOuZeHBy/YTBmSK6H9qs/y3RnOaw5v.')
    expect(sha512Crypt('This is just a test', 'toolongsaltstring', 5000))
      .toBe('$6$toolongsaltstrin$lQ8jolhgVRVhY4b5pZKaysCLi0QBxGoNeKQzQ3glMhwllF7oGDZxUhx1yxdYcz/e1JSbq3y6JMxxl8audkUEm0')
  })

  it('matches openssl passwd -6 for passwords with spaces, colons and non-ASCII characters', () => {
    for (const [password, salt] of [['Staging-only pass 42', 'abcdefgh12345678'], ['a:b$c', 'Zz./09'], ['pässwörd ✓', 'x'], ['12345678', 'saltsaltsaltsalt']]) {
      const expected = execFileSync('openssl', ['passwd', '-6', '-salt', salt, '-stdin'], { input: password, encoding: 'utf8' }).trim()
      expect(sha512Crypt(password, salt), password).toBe(expected)
    }
  })

  it('hashes with a fresh 16-character salt each time', () => {
    const a = hashBasicAuthPassword('same password')
    const b = hashBasicAuthPassword('same password')
    expect(a).toMatch(/^\$6\$[./0-9A-Za-z]{16}\$[./0-9A-Za-z]{86}$/)
    expect(a).not.toBe(b)
    expect(sha512Crypt('same password', a.split('$')[2])).toBe(a)
  })
})
