import { describe, it, expect } from 'vitest'
import { allowedSourcesProblem, refusedArchiveUrl } from '../../runtime/contracts/archive-url.js'

describe('refusedArchiveUrl', () => {
  it.each([
    'http://127.0.0.1/a.tar.gz', 'http://127.1.2.3:8080/a.tar.gz', 'http://10.0.0.5/a.tar.gz', 'http://172.20.1.1/a.tar.gz',
    'http://192.168.1.10/a.tar.gz', 'http://169.254.169.254/latest/meta-data/', 'http://100.100.100.200/a.tar.gz',
    'http://0.0.0.0/a.tar.gz', 'http://[::1]/a.tar.gz', 'http://[fe80::1]/a.tar.gz', 'http://[fd00:ec2::254]/a.tar.gz',
    'http://[::ffff:127.0.0.1]/a.tar.gz', 'http://localhost/a.tar.gz', 'http://metadata.google.internal/a.tar.gz',
    'http://2130706433/a.tar.gz', 'http://0x7f000001/a.tar.gz',
    // Reserved ranges: benchmarking (the test lab), documentation, multicast, broadcast, IPv6 documentation and 6to4.
    'http://198.18.3.1:8000/site.tar.gz', 'http://198.19.255.1/a.tar.gz', 'http://203.0.113.7/site.tar.gz', 'http://192.0.2.1/a.tar.gz',
    'http://224.0.0.1/a.tar.gz', 'http://255.255.255.255/a.tar.gz', 'http://[2001:db8::1]/a.tar.gz', 'http://[2002:7f00:1::1]/a.tar.gz',
    'http://[64:ff9b::a00:1]/a.tar.gz',
  ])('refuses %s without an allow-list', (url) => {
    expect(refusedArchiveUrl(url)).not.toBeNull()
  })

  it.each(['https://example.com/site.tar.gz', 'http://93.184.216.34/site.tar.gz', 'http://[2a00:1450:4001:80b::200e]/a.tar.gz', 'http://files.example.org:8080/a.tar.gz'])(
    'leaves %s to the node (public address or a name only DNS can judge)', (url) => {
      expect(refusedArchiveUrl(url)).toBeNull()
    })

  it('lets the allow-list open exactly the named addresses, ranges and names', () => {
    const allow = '198.18.0.1, 10.20.0.0/16,fd12:3456::/32 , archives.internal'
    expect(refusedArchiveUrl('http://198.18.0.1:8000/a.tar.gz', allow)).toBeNull()
    expect(refusedArchiveUrl('http://198.18.0.2:8000/a.tar.gz', allow)).toMatch(/198\.18\.0\.2 is a private, shared, reserved.*import_allowed_sources/)
    expect(refusedArchiveUrl('http://10.20.99.1/a.tar.gz', allow)).toBeNull()
    expect(refusedArchiveUrl('http://10.21.0.1/a.tar.gz', allow)).not.toBeNull()
    expect(refusedArchiveUrl('http://[fd12:3456::9]/a.tar.gz', allow)).toBeNull()
    expect(refusedArchiveUrl('http://[::ffff:10.20.0.7]/a.tar.gz', allow)).toBeNull()
    expect(refusedArchiveUrl('http://archives.internal/a.tar.gz', allow)).toBeNull()
    expect(refusedArchiveUrl('http://other.internal/a.tar.gz', allow)).toMatch(/local host name/)
  })

  it('keeps loopback, link-local, metadata and localhost refused even when a range of the allow-list covers them', () => {
    const allow = '0.0.0.0/1, 128.0.0.0/1, ::/1, 8000::/1'
    for (const url of ['http://127.0.0.1/a.tar.gz', 'http://169.254.169.254/latest/meta-data/', 'http://100.100.100.200/a.tar.gz',
      'http://0.0.0.0/a.tar.gz', 'http://[::1]/a.tar.gz', 'http://[fe80::1]/a.tar.gz', 'http://[fd00:ec2::254]/a.tar.gz', 'http://localhost/a.tar.gz']) {
      expect([url, refusedArchiveUrl(url, allow)]).toEqual([url, expect.stringMatching(/loopback, link-local or metadata|local host name/)])
    }
    expect(refusedArchiveUrl('http://10.0.0.1/a.tar.gz', allow)).toBeNull()
  })
})

describe('allowedSourcesProblem', () => {
  it.each(['198.18.0.1', '198.18.0.0/15', 'archives.example.com, 10.0.0.0/8', 'fd00::/8,nas', '2001:db8::/32'])('accepts %s', (value) => {
    expect(allowedSourcesProblem(value)).toBeNull()
  })

  it.each([
    ['', /at least one/], [' , ', /at least one/], ['198.18.0.1/15', /host bits/], ['10.0.0.0/33', /prefix/], ['Archives.Example.com', /lowercase host name/],
    ['files.example.com/8', /not a CIDR/], ['a b', /lowercase host name/], ['127.0.0.1', /cannot be allowed/], ['169.254.169.254', /cannot be allowed/],
    ['localhost', /cannot be allowed/], ['fd00::/8/1', /prefix|CIDR/], [Array.from({ length: 65 }, (_, i) => `10.0.${i}.0/24`).join(','), /at most 64/],
  ])('rejects %j', (value, message) => {
    expect(allowedSourcesProblem(value)).toMatch(message)
  })
})
