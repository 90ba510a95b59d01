import { describe, it, expect } from 'vitest'
import { refusedArchiveUrl } from '../../runtime/contracts/archive-url.js'

describe('refusedArchiveUrl', () => {
  it.each([
    'http://127.0.0.1/a.tar.gz', 'http://127.1.2.3:8080/a.tar.gz', 'http://10.0.0.5/a.tar.gz', 'http://172.20.1.1/a.tar.gz',
    'http://192.168.1.10/a.tar.gz', 'http://169.254.169.254/latest/meta-data/', 'http://100.100.100.200/a.tar.gz',
    'http://0.0.0.0/a.tar.gz', 'http://[::1]/a.tar.gz', 'http://[fe80::1]/a.tar.gz', 'http://[fd00:ec2::254]/a.tar.gz',
    'http://[::ffff:127.0.0.1]/a.tar.gz', 'http://localhost/a.tar.gz', 'http://metadata.google.internal/a.tar.gz',
    'http://2130706433/a.tar.gz', 'http://0x7f000001/a.tar.gz',
  ])('refuses %s', (url) => {
    expect(refusedArchiveUrl(url)).not.toBeNull()
  })

  it.each(['https://example.com/site.tar.gz', 'http://203.0.113.7/site.tar.gz', 'http://198.18.3.1:8000/site.tar.gz', 'http://[2001:db8::1]/a.tar.gz'])(
    'leaves %s to the node (public address or a name only DNS can judge)', (url) => {
      expect(refusedArchiveUrl(url)).toBeNull()
    })
})
