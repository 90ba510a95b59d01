// SSRF defence for import archive URLs at the API: what can be decided without DNS (the host is an IP literal or a
// local name). The node decides the rest on the address it actually connects to (pl-fetch.py, same ranges).
import { BlockList, isIP } from 'node:net'

const refused = new BlockList()
for (const [net, prefix] of [['0.0.0.0', 8], ['10.0.0.0', 8], ['100.64.0.0', 10], ['127.0.0.0', 8], ['169.254.0.0', 16],
  ['172.16.0.0', 12], ['192.0.0.0', 24], ['192.168.0.0', 16], ['224.0.0.0', 4], ['240.0.0.0', 4]] as const) refused.addSubnet(net, prefix, 'ipv4')
for (const [net, prefix] of [['::', 128], ['::1', 128], ['fe80::', 10], ['fc00::', 7], ['ff00::', 8]] as const) refused.addSubnet(net, prefix, 'ipv6')

const LOCAL_NAMES = /(^|\.)(localhost|localdomain|internal|local)$/

/** Why an archive URL must be refused before any job runs, or null when only the node can tell (a DNS name). */
export function refusedArchiveUrl(value: string): string | null {
  let host: string
  try { host = new URL(value).hostname.toLowerCase() } catch { return null }
  const bare = host.replace(/^\[|\]$/g, '')
  const version = isIP(bare)
  if (version === 0) return LOCAL_NAMES.test(host) ? `${host} is a local host name` : null
  let address = bare
  // IPv4-mapped IPv6 (::ffff:127.0.0.1, which URL normalises to ::ffff:7f00:1) is the IPv4 address.
  const mapped = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(bare)
  if (mapped) {
    const n = (parseInt(mapped[1], 16) << 16 >>> 0) + parseInt(mapped[2], 16)
    address = [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.')
  }
  const family = isIP(address) === 6 ? 'ipv6' : 'ipv4'
  return refused.check(address, family) ? `${address} is a loopback, private, link-local, metadata or reserved address` : null
}
