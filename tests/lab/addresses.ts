// Lab addressing inside the benchmarking range 198.18.0.0/15: one /24 per instance, one fixed address for shared services.
export const labRange = { network: '198.18.0.0', prefix: 15 }

// The last /24 of the range is reserved for services shared by all instances (the apt proxy).
export const sharedServicesIp = '198.19.255.1'
export const sharedLink = 'plab-shared'
export const aptProxyPort = 3143
export const maxInstanceIndex = 510

export const ports = { dns: 53, acme: 14000, acmeManagement: 15000, s3: 4568, ssh: 22 }

export interface InstanceNetwork {
  index: number
  cidr: string
  gateway: string
  bridge: string
}

function ipFromNumber(n: number): string {
  return [24, 16, 8, 0].map((shift) => (n >>> shift) & 255).join('.')
}

export function ipToNumber(ip: string): number {
  return ip.split('.').reduce((acc, part) => acc * 256 + Number(part), 0)
}

export function isLabAddress(ip: string): boolean {
  if (!/^\d+\.\d+\.\d+\.\d+$/.test(ip)) return false
  const mask = 2 ** (32 - labRange.prefix)
  return Math.floor(ipToNumber(ip) / mask) === Math.floor(ipToNumber(labRange.network) / mask)
}

export function instanceNetwork(index: number): InstanceNetwork {
  if (!Number.isInteger(index) || index < 0 || index > maxInstanceIndex) throw new Error(`no lab subnet with index ${index}`)
  const base = ipToNumber(labRange.network) + index * 256
  return { index, cidr: `${ipFromNumber(base)}/24`, gateway: ipFromNumber(base + 1), bridge: `plab${index}` }
}

// node1 is .11, node2 .12, … leaving .2–.10 free for future host-side helpers.
export const maxNodes = 200

export function nodeIp(network: InstanceNetwork, nodeNumber: number): string {
  if (nodeNumber < 1 || nodeNumber > maxNodes) throw new Error(`node number ${nodeNumber} out of range 1..${maxNodes}`)
  return ipFromNumber(ipToNumber(network.gateway) - 1 + 10 + nodeNumber)
}

export function dashedIp(ip: string): string {
  return ip.replaceAll('.', '-')
}
