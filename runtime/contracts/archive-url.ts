// SSRF defence for import archive URLs at the API: what can be decided without DNS (the host is an IP literal or a
// local name), with the operator's allow-list (setting `import_allowed_sources`). The node decides the rest on the
// address it actually connects to (pl-fetch.py, same ranges and the same allow-list rules; docs/decisions.md).
import { BlockList, isIP } from 'node:net'

type Family = 'ipv4' | 'ipv6'
type Range = readonly [string, number]

// Never allowed, whatever the allow-list says: loopback, "this network", link-local (cloud metadata 169.254.169.254
// among them) and the metadata addresses outside link-local (AWS IPv6, Alibaba). pl-fetch.py adds the node's own addresses.
const ALWAYS_V4: Range[] = [['0.0.0.0', 8], ['127.0.0.0', 8], ['169.254.0.0', 16], ['100.100.100.200', 32]]
const ALWAYS_V6: Range[] = [['::', 128], ['::1', 128], ['fe80::', 10], ['fd00:ec2::254', 128]]
// Refused unless allowed: private, shared/CGNAT, IETF protocol assignments, documentation, benchmarking (198.18.0.0/15,
// where the test lab lives), 6to4 relay, multicast, reserved and broadcast; IPv6 unique-local, site-local, discard,
// IETF/Teredo, documentation, 6to4, NAT64 and multicast.
const REFUSED_V4: Range[] = [['10.0.0.0', 8], ['100.64.0.0', 10], ['172.16.0.0', 12], ['192.0.0.0', 24], ['192.0.2.0', 24],
  ['192.88.99.0', 24], ['192.168.0.0', 16], ['198.18.0.0', 15], ['198.51.100.0', 24], ['203.0.113.0', 24], ['224.0.0.0', 4], ['240.0.0.0', 4]]
const REFUSED_V6: Range[] = [['64:ff9b::', 96], ['64:ff9b:1::', 48], ['100::', 64], ['2001::', 23], ['2001:db8::', 32], ['2002::', 16],
  ['fc00::', 7], ['fec0::', 10], ['ff00::', 8]]

function blockList(v4: Range[], v6: Range[]): BlockList {
  const list = new BlockList()
  for (const [net, prefix] of v4) list.addSubnet(net, prefix, 'ipv4')
  for (const [net, prefix] of v6) list.addSubnet(net, prefix, 'ipv6')
  return list
}
const always = blockList(ALWAYS_V4, ALWAYS_V6)
const refused = blockList(REFUSED_V4, REFUSED_V6)

const LOCAL_NAMES = /(^|\.)(localhost|localdomain|internal|local)$/
const ALWAYS_NAMES = /(^|\.)(localhost|localdomain)$/
const HOST_LABEL = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/
const MAX_ENTRIES = 64

/** The operator's allow-list: host names matched exactly, and CIDR ranges (a bare address is a /32 or /128). */
export interface AllowedSources { hosts: Set<string>; ranges: BlockList }

function ipv4ToBigInt(address: string): bigint {
  return address.split('.').reduce((n, part) => (n << 8n) + BigInt(Number(part)), 0n)
}

function ipToBigInt(address: string): bigint {
  if (isIP(address) === 4) return ipv4ToBigInt(address)
  let text = address
  const embedded = /(\d+\.\d+\.\d+\.\d+)$/.exec(text)
  if (embedded) {
    const n = ipv4ToBigInt(embedded[1])
    text = `${text.slice(0, -embedded[1].length)}${(n >> 16n).toString(16)}:${(n & 0xffffn).toString(16)}`
  }
  const [head, tail] = text.includes('::') ? text.split('::') : [text, undefined]
  const headParts = head ? head.split(':') : []
  const tailParts = tail ? tail.split(':') : []
  const groups = tail === undefined ? headParts : [...headParts, ...Array(8 - headParts.length - tailParts.length).fill('0'), ...tailParts]
  return groups.reduce((n, group) => (n << 16n) + BigInt(parseInt(group, 16)), 0n)
}

type Entry = { kind: 'host'; host: string } | { kind: 'range'; address: string; prefix: number; family: Family }

function parseEntry(entry: string): Entry | string {
  const slash = entry.indexOf('/')
  const address = slash === -1 ? entry : entry.slice(0, slash)
  const version = isIP(address)
  if (version === 0) {
    if (slash !== -1) return `"${entry.slice(0, 60)}" is not a CIDR range`
    const labels = entry.split('.')
    if (entry.length > 253 || entry !== entry.toLowerCase() || !labels.every((label) => HOST_LABEL.test(label)) || /^\d+$/.test(labels[labels.length - 1])) {
      return `"${entry.slice(0, 60)}" is neither a lowercase host name nor an IP address or CIDR range`
    }
    if (ALWAYS_NAMES.test(entry)) return `"${entry}" is this host and cannot be allowed`
    return { kind: 'host', host: entry }
  }
  const bits = version === 4 ? 32 : 128
  const prefixText = slash === -1 ? String(bits) : entry.slice(slash + 1)
  if (!/^\d{1,3}$/.test(prefixText) || Number(prefixText) > bits) return `"${entry.slice(0, 60)}" has an invalid prefix length`
  const prefix = Number(prefixText)
  const family: Family = version === 4 ? 'ipv4' : 'ipv6'
  const hostBits = BigInt(bits - prefix)
  if (hostBits > 0n && (ipToBigInt(address) & ((1n << hostBits) - 1n)) !== 0n) return `"${entry.slice(0, 60)}" has host bits set (write the network address)`
  if (prefix === bits && always.check(address, family)) return `"${entry}" is a loopback, link-local or metadata address and cannot be allowed`
  return { kind: 'range', address, prefix, family }
}

function entries(value: string): string[] {
  return value.split(',').map((entry) => entry.trim()).filter((entry) => entry !== '')
}

/** Why a value of `import_allowed_sources` is invalid, or null. */
export function allowedSourcesProblem(value: string): string | null {
  if (value.length > 4096) return 'must be at most 4096 characters'
  const list = entries(value)
  if (list.length === 0) return 'must name at least one host name or CIDR range (clear the setting to allow none)'
  if (list.length > MAX_ENTRIES) return `must have at most ${MAX_ENTRIES} entries`
  for (const entry of list) {
    const parsed = parseEntry(entry)
    if (typeof parsed === 'string') return parsed
  }
  return null
}

/** The setting's entries as the node's pl-fetch.py takes them (--allow), for the playbooks that download. */
export function allowedSourceEntries(value: string | null | undefined): string[] {
  return entries(value ?? '')
}

/** The allow-list of a valid (or unset) setting value; invalid entries are left out. */
export function parseAllowedSources(value: string | null | undefined): AllowedSources {
  const allowed: AllowedSources = { hosts: new Set(), ranges: new BlockList() }
  for (const entry of entries(value ?? '')) {
    const parsed = parseEntry(entry)
    if (typeof parsed === 'string') continue
    if (parsed.kind === 'host') allowed.hosts.add(parsed.host)
    else allowed.ranges.addSubnet(parsed.address, parsed.prefix, parsed.family)
  }
  return allowed
}

/**
 * Why an archive URL must be refused before any job runs, or null when it may go on (a public address, a name only
 * DNS can judge, or an address or name the operator allowed). `allowedSources` is the `import_allowed_sources` setting.
 */
export function refusedArchiveUrl(value: string, allowedSources: string | null = null): string | null {
  let host: string
  try { host = new URL(value).hostname.toLowerCase() } catch { return null }
  const bare = host.replace(/^\[|\]$/g, '')
  const allowed = parseAllowedSources(allowedSources)
  const version = isIP(bare)
  if (version === 0) {
    if (ALWAYS_NAMES.test(host)) return `${host} is a local host name`
    if (allowed.hosts.has(host)) return null
    return LOCAL_NAMES.test(host) ? `${host} is a local host name` : null
  }
  let address = bare
  // IPv4-mapped IPv6 (::ffff:127.0.0.1, which URL normalises to ::ffff:7f00:1) is the IPv4 address.
  const mapped = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(bare)
  if (mapped) {
    const n = (parseInt(mapped[1], 16) << 16 >>> 0) + parseInt(mapped[2], 16)
    address = [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.')
  }
  const family: Family = isIP(address) === 6 ? 'ipv6' : 'ipv4'
  if (always.check(address, family)) return `${address} is a loopback, link-local or metadata address`
  if (!refused.check(address, family)) return null
  if (allowed.ranges.check(address, family)) return null
  return `${address} is a private, shared, reserved or multicast address (not in the import_allowed_sources setting)`
}
