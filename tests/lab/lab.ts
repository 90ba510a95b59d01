// The lab's public API, used by the CLI and by other test suites: up, status, exec, authorize, down of one instance.
import { appendFileSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync } from 'node:fs'
import { rm } from 'node:fs/promises'
import { acmeDirectoryUrl, acmeFiles, ensureAcme } from './acme.js'
import { instanceNetwork, isLabAddress, maxInstanceIndex, nodeIp, ports, type InstanceNetwork } from './addresses.js'
import { aptProxyUrl, ensureAptProxy, stopAptProxyIfUnused } from './apt-proxy.js'
import { ensureBaseImage } from './base-image.js'
import { dnsUpdateAccess, ensureBind, updateDnsRecords, type DnsRecord, type DnsUpdateAccess } from './bind.js'
import { ensureGitServer, gitBaseDir, gitUrl } from './git-server.js'
import { dnsProbeName, ensureDns } from './dns.js'
import { withLock } from './lock.js'
import { createNodeNetwork, deleteLink, deleteNetns, ensureBridge, hostIpv4Addresses, linkNames, setLinkUp } from './network.js'
import { execInNode, isNodeRunning, nodeDirs, seedNode, startNode, stopNode, waitForSsh, type ExecOptions } from './nodes.js'
import { instanceName, instancePaths } from './paths.js'
import { stopProcess } from './processes.js'
import { ensureS3, newS3Credentials, s3Endpoint } from './s3.js'
import { ensureKeyPair, knownHostsLines, writeKnownHosts } from './ssh-keys.js'
import { allInstanceStates, readState, sharedLockFile, writeState, type InstanceState, type NodeState } from './state.js'

export interface LabNode {
  name: string
  ip: string
  ssh_port: number
  ssh_user: string
  ssh_key: string
}

export interface LabStatus {
  nodes: LabNode[]
  dns: string
  apt_proxy: string
  acme: { directory_url: string; ca_cert: string }
  s3: { endpoint: string; region: string; bucket: string; access_key_id: string; secret_access_key: string }
  dns_probe_name: string
  // bind9 zones preview.lab.test and dyn.lab.test, updatable with RFC 2136 + TSIG (tests/lab/bind.ts)
  dns_update: DnsUpdateAccess
  // git http-backend over HTTPS (lab CA): clone <url><name>.git for a bare repository at <dir>/<name>.git; <dir>/files/x → <url>files/x
  git: { url: string; dir: string }
}

export interface LabOptions {
  // Defaults to $PRESSLUFT_LAB, else "default".
  instance?: string
  log?: (line: string) => void
}

const stderrLog = (line: string): void => { process.stderr.write(`[lab] ${line}\n`) }

async function allocateNetwork(instance: string): Promise<InstanceNetwork> {
  const taken = new Set(allInstanceStates().filter((s) => s.instance !== instance).map((s) => s.network.index))
  const hostAddresses = new Set((await hostIpv4Addresses()).filter(isLabAddress))
  const links = new Set(await linkNames())
  for (let index = 0; index <= maxInstanceIndex; index++) {
    const network = instanceNetwork(index)
    const prefix = network.gateway.slice(0, network.gateway.lastIndexOf('.') + 1)
    // Skip subnets someone else (another checkout, a leftover) already uses on this host.
    const inUse = taken.has(index) || links.has(network.bridge) || [...hostAddresses].some((a) => a.startsWith(prefix))
    if (!inUse) return network
  }
  throw new Error('no free /24 left in 198.18.0.0/15 for another lab instance')
}

function nodeState(instance: string, network: InstanceNetwork, number: number): NodeState {
  return {
    name: `node${number}`,
    number,
    ip: nodeIp(network, number),
    // The subnet index keeps names unique across checkouts that both run an instance called "default".
    netns: `plab${network.index}-${instance}-node${number}`,
    veth: `${network.bridge}n${number}`,
  }
}

function extraAuthorizedKeys(file: string): string[] {
  return existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter((l) => l.trim().length > 0) : []
}

export async function labUp(options: LabOptions & { nodes?: number } = {}): Promise<LabStatus> {
  const instance = instanceName(options.instance)
  const log = options.log ?? stderrLog
  const wanted = options.nodes ?? 1
  if (!Number.isInteger(wanted) || wanted < 1) throw new Error('--nodes must be a positive integer')
  const paths = instancePaths(instance)
  await withLock(paths.lock, `lab "${instance}"`, async () => {
    const base = await ensureBaseImage(log)
    let state = await withLock(sharedLockFile, 'lab shared', async () => {
      const existing = readState(instance)
      const current: InstanceState = existing ?? {
        instance,
        network: await allocateNetwork(instance),
        s3: newS3Credentials(),
        nodes: [],
        services: {},
      }
      // Recorded before anything starts, so a crash half-way still leaves `down` a complete list to undo.
      writeState(current)
      // Created under the machine-wide lock: an existing bridge is how a lab of another checkout sees this subnet is taken.
      await ensureBridge(current.network)
      await ensureAptProxy(log)
      return current
    })
    for (const dir of [paths.run, paths.logs, paths.nodes]) mkdirSync(dir, { recursive: true })
    const labKey = await ensureKeyPair(paths.sshKey, `pressluft-lab-${instance}`)
    const save = (next: InstanceState): InstanceState => { writeState(next); state = next; return next }

    const [acme, s3] = await Promise.all([ensureAcme(state, paths.acme, paths.logs), ensureS3(state, paths.s3, paths.logs)])
    save({ ...state, services: { ...state.services, acme, s3 } })
    save({ ...state, services: { ...state.services, bind: await ensureBind(state, `${paths.run}/bind`, paths.logs) } })
    save({ ...state, services: { ...state.services, git: await ensureGitServer(state, paths.run, paths.acme, paths.logs) } })

    const count = Math.max(wanted, state.nodes.length)
    const nodes = Array.from({ length: count }, (_, i) => state.nodes[i] ?? nodeState(instance, state.network, i + 1))
    save({ ...state, nodes })
    save({ ...state, services: { ...state.services, dns: await ensureDns(state, paths.dns, paths.logs) } })

    const toStart = nodes.filter((node) => !isNodeRunning(node))
    if (toStart.length > 0) log(`starting ${toStart.map((n) => n.name).join(', ')} in lab "${instance}" (${state.network.cidr})`)
    const caCert = readFileSync(acmeFiles(paths.acme).caCert, 'utf8')
    const authorizedKeys = [labKey, ...extraAuthorizedKeys(paths.authorizedKeys)]
    await Promise.all(toStart.map(async (node) => {
      await stopNode(node)
      const dirs = nodeDirs(paths.nodes, node.name)
      await seedNode({ base, dirs, name: node.name, gateway: state.network.gateway, authorizedKeys, acmeCaCert: caCert })
    }))
    for (const node of toStart) {
      const dirs = nodeDirs(paths.nodes, node.name)
      await createNodeNetwork(state.network, node)
      const started = await startNode(node, base, dirs, `${paths.logs}/${node.name}.log`)
      save({ ...state, nodes: state.nodes.map((n) => (n.name === node.name ? started : n)) })
    }
    await Promise.all(state.nodes.map((node) => waitForSsh(node, `${paths.logs}/${node.name}.log`)))
    writeKnownHosts(paths.knownHosts, state.nodes.flatMap((node) =>
      knownHostsLines(nodeDirs(paths.nodes, node.name).upper, [node.ip, `${node.name}.lab.test`])))
  })
  return labStatus({ instance })
}

function requireState(instance: string): InstanceState {
  const state = readState(instance)
  if (!state) throw new Error(`lab "${instance}" is not up (run: PRESSLUFT_LAB=${instance} npm run lab -- up)`)
  return state
}

export function labStatus(options: LabOptions = {}): LabStatus {
  const instance = instanceName(options.instance)
  const state = requireState(instance)
  const paths = instancePaths(instance)
  return {
    nodes: state.nodes.map((node) => ({ name: node.name, ip: node.ip, ssh_port: ports.ssh, ssh_user: 'root', ssh_key: paths.sshKey })),
    dns: state.network.gateway,
    apt_proxy: aptProxyUrl,
    acme: { directory_url: acmeDirectoryUrl(state), ca_cert: acmeFiles(paths.acme).caCert },
    s3: { endpoint: s3Endpoint(state), ...state.s3 },
    dns_probe_name: dnsProbeName,
    dns_update: dnsUpdateAccess(state, `${paths.run}/bind`),
    git: { url: gitUrl(state), dir: gitBaseDir(paths.run) },
  }
}

// Where the lab keeps files a caller may want beyond the status shape.
export function labFiles(options: LabOptions = {}): { knownHosts: string; sshKey: string; logs: string } {
  const paths = instancePaths(instanceName(options.instance))
  return { knownHosts: paths.knownHosts, sshKey: paths.sshKey, logs: paths.logs }
}

export function labIsUp(options: LabOptions = {}): boolean {
  const state = readState(instanceName(options.instance))
  return state !== undefined && state.nodes.length > 0 && state.nodes.every(isNodeRunning)
}

function findNode(state: InstanceState, name: string): NodeState {
  const node = state.nodes.find((n) => n.name === name || n.ip === name || `${n.name}.lab.test` === name)
  if (!node) throw new Error(`no node "${name}" in lab "${state.instance}" (have: ${state.nodes.map((n) => n.name).join(', ')})`)
  return node
}

export interface ExecResult {
  exitCode: number
  stdout: string
  stderr: string
}

// Throws on a non-zero exit unless reject: false; output is captured unless stdio: 'inherit'.
export async function labExec(node: string, argv: string[], options: LabOptions & ExecOptions = {}): Promise<ExecResult> {
  const state = requireState(instanceName(options.instance))
  const result = await execInNode(findNode(state, node), argv, options)
  return { exitCode: result.exitCode ?? 1, stdout: String(result.stdout ?? ''), stderr: String(result.stderr ?? '') }
}

const appendKeyScript = 'mkdir -p /root/.ssh && chmod 700 /root/.ssh && touch /root/.ssh/authorized_keys && chmod 600 /root/.ssh/authorized_keys && (grep -qxF "$1" /root/.ssh/authorized_keys || printf "%s\\n" "$1" >> /root/.ssh/authorized_keys)'

export async function labAuthorize(publicKeyPath: string, options: LabOptions = {}): Promise<void> {
  const instance = instanceName(options.instance)
  const keys = readFileSync(publicKeyPath, 'utf8').split('\n').map((l) => l.trim()).filter((l) => /^(ssh|ecdsa|sk)-/.test(l))
  if (keys.length === 0) throw new Error(`${publicKeyPath} holds no OpenSSH public key`)
  const paths = instancePaths(instance)
  await withLock(paths.lock, `lab "${instance}"`, async () => {
    const state = requireState(instance)
    const known = extraAuthorizedKeys(paths.authorizedKeys)
    // Kept so nodes added by a later `up --nodes N` get the key too.
    for (const key of keys) if (!known.includes(key)) appendFileSync(paths.authorizedKeys, `${key}\n`)
    for (const node of state.nodes.filter(isNodeRunning)) {
      for (const key of keys) await execInNode(node, ['sh', '-c', appendKeyScript, 'authorize', key])
    }
  })
}

/**
 * Starts one more node named `name` in a lab that is up, as a cloud provider boots a new server: fresh disk, fresh host
 * keys, and exactly `authorizedKeys` for root (not the lab key, not keys from `authorize`). `onStarting` sees the node
 * once its address exists and it is booting; the promise resolves when its sshd answers.
 */
export async function labStartNode(name: string, options: LabOptions & { authorizedKeys: string[]; onStarting?: (node: LabNode) => void }): Promise<LabNode> {
  const instance = instanceName(options.instance)
  const paths = instancePaths(instance)
  if (!/^[a-z0-9][a-z0-9-]{0,30}$/.test(name)) throw new Error(`lab node name "${name}" must match [a-z0-9-], up to 31 characters`)
  const base = await ensureBaseImage(options.log ?? stderrLog)
  return withLock(paths.lock, `lab "${instance}"`, async () => {
    let state = requireState(instance)
    if (state.nodes.some((n) => n.name === name)) throw new Error(`lab "${instance}" already has a node "${name}"`)
    const number = Math.max(0, ...state.nodes.map((n) => n.number)) + 1
    const node = { ...nodeState(instance, state.network, number), name }
    writeState(state = { ...state, nodes: [...state.nodes, node] })
    const dirs = nodeDirs(paths.nodes, name)
    await seedNode({ base, dirs, name, gateway: state.network.gateway, authorizedKeys: options.authorizedKeys, acmeCaCert: readFileSync(acmeFiles(paths.acme).caCert, 'utf8') })
    writeState(state = { ...state, services: { ...state.services, dns: await ensureDns(state, paths.dns, paths.logs) } })
    await createNodeNetwork(state.network, node)
    const started = await startNode(node, base, dirs, `${paths.logs}/${name}.log`)
    writeState(state = { ...state, nodes: state.nodes.map((n) => (n.name === name ? started : n)) })
    const view: LabNode = { name, ip: node.ip, ssh_port: ports.ssh, ssh_user: 'root', ssh_key: paths.sshKey }
    options.onStarting?.(view)
    await waitForSsh(started, `${paths.logs}/${name}.log`)
    return view
  })
}

/** Stops a node started by labStartNode and removes it (its disk, links and DNS names) from the lab: the server is gone. */
export async function labStopNode(name: string, options: LabOptions = {}): Promise<void> {
  const instance = instanceName(options.instance)
  const paths = instancePaths(instance)
  await withLock(paths.lock, `lab "${instance}"`, async () => {
    let state = requireState(instance)
    const node = findNode(state, name)
    await stopNode(node)
    await deleteLink(node.veth)
    await deleteNetns(node.netns)
    // The disk is moved aside and deleted in the background (a provisioned node's files take many seconds to delete);
    // whatever is left when the process ends goes with `down`, which removes run/.
    const discarded = `${paths.run}/discarded-${node.name}-${Date.now()}`
    renameSync(`${paths.nodes}/${node.name}`, discarded)
    void rm(discarded, { recursive: true, force: true }).catch(() => undefined)
    writeState(state = { ...state, nodes: state.nodes.filter((n) => n.name !== node.name) })
    writeState({ ...state, services: { ...state.services, dns: await ensureDns(state, paths.dns, paths.logs) } })
  })
}

/**
 * Cuts a node off the lab network (its host-side veth down) or reconnects it; the node keeps running with its files,
 * so the same server comes back, as after a network outage.
 */
export async function labSetNodeConnected(name: string, connected: boolean, options: LabOptions = {}): Promise<void> {
  const instance = instanceName(options.instance)
  await withLock(instancePaths(instance).lock, `lab "${instance}"`, async () => {
    await setLinkUp(findNode(requireState(instance), name).veth, connected)
  })
}

export async function labDown(options: LabOptions = {}): Promise<void> {
  const instance = instanceName(options.instance)
  const log = options.log ?? stderrLog
  const paths = instancePaths(instance)
  await withLock(paths.lock, `lab "${instance}"`, async () => {
    const state = readState(instance)
    if (state) {
      log(`stopping lab "${instance}"`)
      await Promise.all(state.nodes.map(stopNode))
      await Promise.all([state.services.dns, state.services.acme, state.services.s3, state.services.git, state.services.bind].map((record) => stopProcess(record)))
      for (const node of state.nodes) {
        // The veth first: deleting it removes both ends at once, while a deleted netns frees its end asynchronously.
        await deleteLink(node.veth)
        await deleteNetns(node.netns)
      }
      await deleteLink(state.network.bridge)
    }
    rmSync(paths.run, { recursive: true, force: true })
    await withLock(sharedLockFile, 'lab shared', async () => {
      rmSync(paths.state, { force: true })
      await stopAptProxyIfUnused()
    })
  })
}

// An INI inventory of the instance's nodes for ansible, using the lab key and known_hosts.
export function renderInventory(options: LabOptions = {}): string {
  const status = labStatus(options)
  const files = labFiles(options)
  const hosts = status.nodes.map((n) =>
    `${n.name} ansible_host=${n.ip} ansible_port=${n.ssh_port} ansible_user=${n.ssh_user} ansible_ssh_private_key_file=${n.ssh_key}`)
  return [
    '[lab]', ...hosts, '',
    '[lab:vars]',
    `ansible_ssh_common_args='-o UserKnownHostsFile=${files.knownHosts} -o StrictHostKeyChecking=yes'`,
    'ansible_python_interpreter=/usr/bin/python3',
    '',
  ].join('\n')
}

/** Sets (or with no values deletes) record sets in the lab's dynamic zones, e.g. an A and a stale AAAA for a test domain. */
export async function labDnsSet(records: DnsRecord[], options: LabOptions = {}): Promise<void> {
  await updateDnsRecords(labStatus(options).dns_update, records)
}
