// The lab itself: two reachable, isolated nodes with apt proxy, DNS, ACME and S3 beside them, and a down that leaves nothing behind.
import { existsSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { execa } from 'execa'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { isLabAddress, sharedLink } from './addresses.js'
import { aptCacheDir } from './apt-proxy.js'
import { labAuthorize, labDnsSet, labDown, labExec, labFiles, labStatus, labUp, renderInventory, type LabStatus } from './lab.js'
import { linkNames, netnsExists } from './network.js'
import { instancePaths } from './paths.js'
import { isRunning, type ProcessRecord } from './processes.js'
import { readSharedState, readState, type InstanceState } from './state.js'

// Its own instance, so running this suite never touches a lab someone else has up.
const instance = 'lab-selftest'
const scratch = mkdtempSync(path.join(tmpdir(), 'pressluft-lab-test-'))
let status: LabStatus

function sshArgs(key: string, ip: string): string[] {
  const { knownHosts } = labFiles({ instance })
  return ['-i', key, '-o', 'BatchMode=yes', '-o', 'IdentitiesOnly=yes', '-o', `UserKnownHostsFile=${knownHosts}`,
    '-o', 'StrictHostKeyChecking=yes', '-o', 'ConnectTimeout=5', `root@${ip}`]
}

async function inNode(node: string, script: string, env: Record<string, string> = {}): Promise<string> {
  const result = await labExec(node, ['sh', '-c', script], { instance, env: { DEBIAN_FRONTEND: 'noninteractive', ...env } })
  return String(result.stdout)
}

function recordedProcesses(state: InstanceState): ProcessRecord[] {
  return [
    ...state.nodes.flatMap((n) => [n.launcher, n.init]),
    state.services.dns, state.services.acme, state.services.s3,
  ].filter((r): r is ProcessRecord => r !== undefined)
}

function processesRootedUnder(dir: string): number[] {
  return readdirSync('/proc').filter((p) => /^\d+$/.test(p)).map(Number).filter((pid) => {
    try {
      return readlinkSync(`/proc/${pid}/root`).startsWith(dir)
    } catch {
      return false
    }
  })
}

beforeAll(async () => {
  await labDown({ instance })
  status = await labUp({ instance, nodes: 2 })
})

afterAll(async () => {
  await labDown({ instance })
  rmSync(scratch, { recursive: true, force: true })
})

describe('lab', () => {
  it('starts two nodes and reports them in the documented status shape', () => {
    expect(Object.keys(status).sort()).toEqual(['acme', 'apt_proxy', 'dns', 'dns_probe_name', 'dns_update', 'git', 'nodes', 's3'])
    expect(status.nodes.map((n) => n.name)).toEqual(['node1', 'node2'])
    for (const node of status.nodes) {
      expect(Object.keys(node).sort()).toEqual(['ip', 'name', 'ssh_key', 'ssh_port', 'ssh_user'])
      expect(isLabAddress(node.ip)).toBe(true)
      expect(node).toMatchObject({ ssh_port: 22, ssh_user: 'root' })
      expect(existsSync(node.ssh_key)).toBe(true)
    }
    expect(isLabAddress(status.dns)).toBe(true)
    expect(Object.keys(status.acme).sort()).toEqual(['ca_cert', 'directory_url'])
    expect(existsSync(status.acme.ca_cert)).toBe(true)
    expect(Object.keys(status.s3).sort()).toEqual(['access_key_id', 'bucket', 'endpoint', 'region', 'secret_access_key'])
    expect(labStatus({ instance })).toEqual(status)
  })

  it('keeps running nodes and services on a second up (idempotent, never shrinks)', async () => {
    const before = recordedProcesses(readState(instance)!)
    expect(await labUp({ instance, nodes: 1 })).toEqual(status)
    expect(recordedProcesses(readState(instance)!)).toEqual(before)
    expect(before.every(isRunning)).toBe(true)
  })

  it('lets root in over SSH with the lab key on both nodes, checking host keys', async () => {
    for (const node of status.nodes) {
      const { stdout } = await execa('ssh', [...sshArgs(node.ssh_key, node.ip), 'hostname'])
      expect(stdout.trim()).toBe(node.name)
    }
  })

  it('keeps a file created on node1 out of node2 and out of the host', async () => {
    const marker = `/root/lab-isolation-${process.pid}`
    await inNode('node1', `echo node1 > ${marker}`)
    expect((await inNode('node1', `cat ${marker}`)).trim()).toBe('node1')
    expect((await inNode('node2', `test -e ${marker} && echo present || echo absent`)).trim()).toBe('absent')
    expect(existsSync(marker)).toBe(false)
  })

  it('installs a package inside a node through the apt proxy, which caches it', async () => {
    // With no default route and no name for the mirror, a successful install can only have come through the proxy.
    expect(await inNode('node1', 'ip route')).not.toMatch(/default/)
    expect((await inNode('node1', 'getent hosts deb.debian.org || echo unresolved')).trim()).toBe('unresolved')
    await inNode('node1', 'apt-get update -q && apt-get install -y -q --no-install-recommends hello')
    expect((await inNode('node1', 'hello')).trim()).toBe('Hello, world!')
    const pool = path.join(aptCacheDir(), 'deb.debian.org/debian/pool/main/h/hello')
    expect(readdirSync(pool).some((f) => f.endsWith('.deb'))).toBe(true)
  })

  it('resolves nodeN.lab.test, its subdomains and sslip.io names from inside a node', async () => {
    const [node1, node2] = status.nodes
    expect(await inNode('node1', 'getent ahostsv4 node2.lab.test')).toContain(node2.ip)
    expect(await inNode('node2', 'getent ahostsv4 shop.node1.lab.test')).toContain(node1.ip)
    const sslip = `abcd1234.${node2.ip.replaceAll('.', '-')}.sslip.io`
    expect(await inNode('node1', `getent ahostsv4 ${sslip}`)).toContain(node2.ip)
    expect(await inNode('node1', `getent ahostsv4 ${status.dns_probe_name}`)).toContain(status.dns)
  })

  it('serves records set with a TSIG-signed RFC 2136 update (bind9) to nodes through the lab DNS, and refuses unsigned updates', async () => {
    const [node1] = status.nodes
    await labDnsSet([
      { name: 'both.dyn.lab.test', type: 'A', values: [node1.ip] },
      { name: 'both.dyn.lab.test', type: 'AAAA', values: ['2001:db8::5'] },
      { name: 'x.preview.lab.test', type: 'A', values: [node1.ip] },
    ], { instance })
    expect(await inNode('node2', 'getent ahostsv4 both.dyn.lab.test')).toContain(node1.ip)
    expect(await inNode('node2', 'getent ahostsv6 both.dyn.lab.test')).toContain('2001:db8::5')
    expect(await inNode('node2', 'getent ahostsv4 x.preview.lab.test')).toContain(node1.ip)
    const unsigned = await execa('nsupdate', [], { reject: false, input: `server ${status.dns_update.server} ${status.dns_update.port}\nupdate add evil.dyn.lab.test. 1 A 192.0.2.1\nsend\n` })
    expect(unsigned.exitCode).not.toBe(0)
    expect(unsigned.stdout + unsigned.stderr).toMatch(/REFUSED/)
  })

  it('reaches pebble\'s directory over HTTPS when, and only when, trusting the exported CA', async () => {
    const nodeCa = '/tmp/lab-acme-ca.crt'
    await labExec('node1', ['sh', '-c', `cat > ${nodeCa}`], { instance, input: readFileSync(status.acme.ca_cert, 'utf8') })
    const fetchDirectory = (cafile: string | null) => `python3 -c '
import json, ssl, sys, urllib.request
ctx = ssl.create_default_context(cafile=${cafile ? `"${cafile}"` : 'None'})
print(json.load(urllib.request.urlopen("${status.acme.directory_url}", context=ctx))["newOrder"])'`
    expect(await inNode('node1', fetchDirectory(nodeCa))).toMatch(/^https:\/\//)
    await expect(inNode('node1', fetchDirectory(null))).rejects.toThrow(/CERTIFICATE_VERIFY_FAILED/)
  })

  it('uploads an object to the S3 server from a node with rclone and downloads it again', async () => {
    const { s3 } = status
    const remote = {
      RCLONE_CONFIG_LAB_TYPE: 's3', RCLONE_CONFIG_LAB_PROVIDER: 'Other', RCLONE_CONFIG_LAB_ENDPOINT: s3.endpoint,
      RCLONE_CONFIG_LAB_REGION: s3.region, RCLONE_CONFIG_LAB_ACCESS_KEY_ID: s3.access_key_id,
      RCLONE_CONFIG_LAB_SECRET_ACCESS_KEY: s3.secret_access_key,
    }
    await inNode('node2', 'apt-get update -q && apt-get install -y -q --no-install-recommends rclone')
    const object = `${s3.bucket}/lab-test/${process.pid}.txt`
    await inNode('node2', `echo backup-bytes > /tmp/upload && rclone copyto /tmp/upload lab:${object}`, remote)
    expect((await inNode('node2', `rclone cat lab:${object}`, remote)).trim()).toBe('backup-bytes')
    await expect(inNode('node2', `rclone lsf lab:${s3.bucket}/`, { ...remote, RCLONE_CONFIG_LAB_ACCESS_KEY_ID: 'WRONG' }))
      .rejects.toThrow(/InvalidAccessKeyId/)
  })

  it('answers ansible.builtin.ping on every node with a generated inventory', async () => {
    const inventory = path.join(scratch, 'inventory.ini')
    writeFileSync(inventory, renderInventory({ instance }))
    const { stdout } = await execa('ansible', ['all', '-i', inventory, '-m', 'ansible.builtin.ping', '-o'], {
      cwd: scratch,
      env: { ANSIBLE_NOCOLOR: '1' },
    })
    for (const node of status.nodes) expect(stdout).toMatch(new RegExp(`^${node.name} \\| SUCCESS .*"ping": "pong"`, 'm'))
  })

  it('lets a key added with authorize log in to every node', async () => {
    const key = path.join(scratch, 'control-plane')
    await execa('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', key])
    await labAuthorize(`${key}.pub`, { instance })
    await labAuthorize(`${key}.pub`, { instance })
    const publicKey = readFileSync(`${key}.pub`, 'utf8').trim()
    for (const node of status.nodes) {
      const { stdout } = await execa('ssh', [...sshArgs(key, node.ip), `grep -cxF '${publicKey}' /root/.ssh/authorized_keys`])
      expect(stdout.trim()).toBe('1')
    }
  })

  it('binds every host-side service it started to lab addresses only', async () => {
    const state = readState(instance)!
    const pids = new Set([...recordedProcesses(state), readSharedState().apt_proxy].map((r) => r?.pid))
    const { stdout } = await execa('ss', ['-H', '-ltnup'])
    const ours = stdout.split('\n').filter((line) => [...line.matchAll(/pid=(\d+)/g)].some((m) => pids.has(Number(m[1]))))
    expect(ours.length).toBeGreaterThanOrEqual(5)
    for (const line of ours) {
      const local = line.trim().split(/\s+/)[4]
      expect(isLabAddress(local.slice(0, local.lastIndexOf(':'))), line).toBe(true)
    }
  })

  it('manages services without systemd: `service ssh stop/start/restart` work and tini stays PID 1', async () => {
    await inNode('node2', 'service ssh stop && service ssh start && service ssh restart && service ssh status')
    const { stdout } = await execa('ssh', [...sshArgs(status.nodes[1].ssh_key, status.nodes[1].ip), 'cat /proc/1/comm'])
    expect(stdout.trim()).toBe('tini')
  })

  it('leaves no namespace, link or process behind on down, and down is idempotent', async () => {
    const state = readState(instance)!
    const paths = instancePaths(instance)
    const proxyBefore = readSharedState().apt_proxy
    await labDown({ instance })
    await labDown({ instance })
    for (const node of state.nodes) expect(netnsExists(node.netns)).toBe(false)
    const links = await linkNames()
    for (const name of [state.network.bridge, ...state.nodes.map((n) => n.veth)]) expect(links).not.toContain(name)
    for (const record of recordedProcesses(state)) expect(isRunning(record), record.command).toBe(false)
    expect(processesRootedUnder(paths.dir)).toEqual([])
    expect(readState(instance)).toBeUndefined()
    expect(existsSync(paths.run)).toBe(false)
    const { stdout } = await execa('ss', ['-H', '-ltnu'])
    expect(stdout).not.toContain(`${state.network.gateway}:`)
    if (!links.some((name) => /^plab\d+$/.test(name))) {
      expect(isRunning(proxyBefore)).toBe(false)
      expect(links).not.toContain(sharedLink)
    }
  })
})
