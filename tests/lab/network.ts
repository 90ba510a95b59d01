// Host-side links of the lab: the shared-services link, one bridge per instance, one veth pair + named netns per node.
import { existsSync } from 'node:fs'
import { execa } from 'execa'
import { sharedServicesIp, type InstanceNetwork } from './addresses.js'

async function ip(args: string[]): Promise<void> {
  await execa('ip', args)
}

/** Takes a node's host-side veth down or up: a cable pulled and plugged back, the node itself keeps running. */
export async function setLinkUp(name: string, up: boolean): Promise<void> {
  await ip(['link', 'set', name, up ? 'up' : 'down'])
}

export async function linkExists(name: string): Promise<boolean> {
  return (await execa('ip', ['link', 'show', 'dev', name], { reject: false })).exitCode === 0
}

export function netnsExists(name: string): boolean {
  return existsSync(`/run/netns/${name}`)
}

export async function hostIpv4Addresses(): Promise<string[]> {
  const { stdout } = await execa('ip', ['-j', '-4', 'addr', 'show'])
  const links = JSON.parse(stdout) as { addr_info?: { local: string }[] }[]
  return links.flatMap((link) => (link.addr_info ?? []).map((a) => a.local))
}

export async function linkNames(): Promise<string[]> {
  const { stdout } = await execa('ip', ['-j', 'link', 'show'])
  return (JSON.parse(stdout) as { ifname: string }[]).map((l) => l.ifname)
}

// This kernel has no dummy links, so a port-less bridge holds the shared address; it needs no carrier for local delivery.
export async function ensureSharedLink(name: string): Promise<void> {
  if (!(await linkExists(name))) {
    await ip(['link', 'add', name, 'type', 'bridge'])
  }
  const { stdout } = await execa('ip', ['-4', '-o', 'addr', 'show', 'dev', name])
  if (!stdout.includes(`${sharedServicesIp}/32`)) await ip(['addr', 'add', `${sharedServicesIp}/32`, 'dev', name])
  await ip(['link', 'set', name, 'up'])
}

export async function ensureBridge(network: InstanceNetwork): Promise<void> {
  // A fixed address: otherwise the bridge takes its lowest port's MAC, which changes as nodes come and go.
  if (!(await linkExists(network.bridge))) {
    await ip(['link', 'add', network.bridge, 'address', labMac(network.gateway), 'type', 'bridge'])
  }
  const { stdout } = await execa('ip', ['-4', '-o', 'addr', 'show', 'dev', network.bridge])
  if (!stdout.includes(`${network.gateway}/24`)) await ip(['addr', 'add', `${network.gateway}/24`, 'dev', network.bridge])
  await ip(['link', 'set', network.bridge, 'up'])
}

export async function deleteLink(name: string): Promise<void> {
  const result = await execa('ip', ['link', 'del', name], { reject: false })
  // The kernel may remove a veth on its own (its peer's namespace went away) between our look and our delete.
  if (result.exitCode !== 0 && (await linkExists(name))) throw new Error(`could not delete link ${name}: ${result.stderr}`)
}

export async function deleteNetns(name: string): Promise<void> {
  if (netnsExists(name)) await ip(['netns', 'del', name])
}

export interface NodeLink {
  netns: string
  veth: string
  ip: string
}

// Derived from the IP, so a restarted node keeps its MAC and the ARP caches of the host and other nodes stay right
// (a fresh random MAC left them sending to the old one for ~20 s).
export function labMac(ip: string): string {
  return ['02', '50', '4c', ...ip.split('.').slice(1).map((octet) => Number(octet).toString(16).padStart(2, '0'))].join(':')
}

export async function createNodeNetwork(network: InstanceNetwork, link: NodeLink): Promise<void> {
  await deleteLink(link.veth)
  await deleteNetns(link.netns)
  await ip(['netns', 'add', link.netns])
  await ip(['link', 'add', link.veth, 'type', 'veth', 'peer', 'name', 'eth0', 'address', labMac(link.ip), 'netns', link.netns])
  await ip(['link', 'set', link.veth, 'master', network.bridge, 'up'])
  await ip(['-n', link.netns, 'link', 'set', 'lo', 'up'])
  await ip(['-n', link.netns, 'addr', 'add', `${link.ip}/24`, 'dev', 'eth0'])
  await ip(['-n', link.netns, 'link', 'set', 'eth0', 'up'])
  // No default route on purpose: a node reaches its own /24 and the shared apt proxy, nothing else.
  await ip(['-n', link.netns, 'route', 'add', `${sharedServicesIp}/32`, 'via', network.gateway])
}
