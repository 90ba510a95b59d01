// Which webhook URLs and receiver addresses are refused (docs/decisions.md "Webhooks"): checked when an endpoint is
// registered (literal addresses and local names) and again on every delivery, on the address the connection uses.
import { BlockList, isIP } from 'node:net'
import { isSafeHttpUrl } from '../contracts/validation.js'

type Family = 'ipv4' | 'ipv6'

// Never a receiver: "this network", link-local (the cloud metadata address 169.254.169.254 among them), the metadata
// addresses outside link-local (AWS IPv6, Alibaba), multicast, reserved and broadcast.
const NEVER = new BlockList()
for (const [net, prefix] of [['0.0.0.0', 8], ['169.254.0.0', 16], ['100.100.100.200', 32], ['224.0.0.0', 4], ['240.0.0.0', 4]] as const) NEVER.addSubnet(net, prefix, 'ipv4')
for (const [net, prefix] of [['::', 128], ['fe80::', 10], ['fd00:ec2::254', 128], ['ff00::', 8]] as const) NEVER.addSubnet(net, prefix, 'ipv6')

// This host: refused unless PRESSLUFT_WEBHOOK_ALLOW_LOOPBACK is set (the control plane's own API and services listen here).
const LOOPBACK = new BlockList()
LOOPBACK.addSubnet('127.0.0.0', 8, 'ipv4')
LOOPBACK.addAddress('::1', 'ipv6')

const LOOPBACK_NAMES = /(^|\.)(localhost|localdomain)$/

/** IPv4-mapped IPv6 (::ffff:a.b.c.d, which URL parsing writes as ::ffff:xxxx:yyyy) is judged as the IPv4 address. */
function unmapped(address: string): { address: string; family: Family } {
  const lower = address.toLowerCase()
  const hex = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(lower)
  if (hex) {
    const n = (parseInt(hex[1], 16) << 16 >>> 0) + parseInt(hex[2], 16)
    return { address: [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.'), family: 'ipv4' }
  }
  const dotted = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(lower)
  if (dotted) return { address: dotted[1], family: 'ipv4' }
  return { address: lower, family: isIP(lower) === 6 ? 'ipv6' : 'ipv4' }
}

/** Why a receiver at this IP address is refused, or null. */
export function refusedReceiverAddress(raw: string, allowLoopback: boolean): string | null {
  const { address, family } = unmapped(raw)
  if (NEVER.check(address, family)) return `${address} is a link-local, metadata, multicast or reserved address`
  if (LOOPBACK.check(address, family) && !allowLoopback) return `${address} is a loopback address (set PRESSLUFT_WEBHOOK_ALLOW_LOOPBACK=true to allow it)`
  return null
}

/** Why a webhook URL is refused, or null; a host name that is not local is judged when it is resolved at delivery. */
export function webhookUrlProblem(value: string, allowLoopback: boolean): string | null {
  if (!isSafeHttpUrl(value)) return 'must be an http or https URL of at most 2048 characters, without credentials or whitespace'
  const url = new URL(value)
  if (url.hash !== '') return 'must not have a #fragment'
  const host = url.hostname.toLowerCase().replace(/^\[|\]$/g, '')
  if (isIP(host)) return refusedReceiverAddress(host, allowLoopback)
  if (LOOPBACK_NAMES.test(host) && !allowLoopback) return `${host} is this host (set PRESSLUFT_WEBHOOK_ALLOW_LOOPBACK=true to allow it)`
  return null
}
