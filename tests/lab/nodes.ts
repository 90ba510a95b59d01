// One lab node: an overlay of the base image with its own files, booted with tini as PID 1 and sshd in fresh namespaces.
import { chownSync, existsSync, mkdirSync, rmSync, statSync, writeFileSync, chmodSync } from 'node:fs'
import path from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { execa, type Options, type Result } from 'execa'
import { ports } from './addresses.js'
import { childPids, isRunning, killNow, recordOf, startDaemon, waitForTcp, waitUntilGone } from './processes.js'
import { generateHostKeys } from './ssh-keys.js'
import type { NodeState } from './state.js'

export interface NodeDirs {
  upper: string
  work: string
  root: string
}

export function nodeDirs(nodesDir: string, name: string): NodeDirs {
  const dir = path.join(nodesDir, name)
  return { upper: path.join(dir, 'upper'), work: path.join(dir, 'work'), root: path.join(dir, 'root') }
}

// Creates <upper>/<relative> with the owner and mode of the same folder in the base image, so the overlay shows no difference.
function mkdirLikeBase(base: string, upper: string, relative: string): string {
  let current = ''
  for (const part of relative.split('/').filter(Boolean)) {
    current = path.join(current, part)
    const target = path.join(upper, current)
    if (existsSync(target)) continue
    const source = statSync(path.join(base, current))
    mkdirSync(target)
    chmodSync(target, source.mode & 0o7777)
    chownSync(target, source.uid, source.gid)
  }
  return path.join(upper, relative)
}

export interface NodeSeed {
  base: string
  dirs: NodeDirs
  name: string
  gateway: string
  authorizedKeys: string[]
  acmeCaCert: string
}

export const nodeAcmeCaPath = '/usr/local/share/pressluft-lab/acme-ca.crt'

// Written into the overlay's upper layer before it is mounted, which is the one moment that is safe.
export async function seedNode(seed: NodeSeed): Promise<void> {
  const { base, dirs, name } = seed
  rmSync(path.dirname(dirs.upper), { recursive: true, force: true })
  for (const dir of [dirs.upper, dirs.work, dirs.root]) mkdirSync(dir, { recursive: true })
  const etc = mkdirLikeBase(base, dirs.upper, 'etc')
  writeFileSync(path.join(etc, 'hostname'), `${name}\n`)
  writeFileSync(
    path.join(etc, 'hosts'),
    `127.0.0.1\tlocalhost\n127.0.1.1\t${name}.lab.test ${name}\n::1\tlocalhost ip6-localhost ip6-loopback\n`,
  )
  writeFileSync(path.join(etc, 'resolv.conf'), `nameserver ${seed.gateway}\n`)
  mkdirLikeBase(base, dirs.upper, 'etc/ssh')
  await generateHostKeys(dirs.upper)
  const rootHome = mkdirLikeBase(base, dirs.upper, 'root')
  mkdirSync(path.join(rootHome, '.ssh'), { mode: 0o700 })
  writeFileSync(path.join(rootHome, '.ssh/authorized_keys'), seed.authorizedKeys.join('\n') + '\n', { mode: 0o600 })
  const caDir = mkdirLikeBase(base, dirs.upper, 'usr/local/share')
  mkdirSync(path.join(caDir, 'pressluft-lab'), { recursive: true })
  writeFileSync(path.join(dirs.upper, nodeAcmeCaPath), seed.acmeCaCert)
}

// Runs with the host's /bin/sh inside the node's new mount namespace, then chroots and becomes tini, the node's PID 1.
// sshd runs as an ordinary daemon under tini (not as PID 1) so `service ssh restart` restarts it instead of ending the node.
const initScript = String.raw`
set -eu
base=$1 upper=$2 work=$3 root=$4 name=$5
mount -t overlay overlay -o "lowerdir=$base,upperdir=$upper,workdir=$work" "$root"
mount -t proc -o nosuid,nodev,noexec proc "$root/proc"
# /proc/sys read-only (it holds host-wide knobs), except /proc/sys/net, which belongs to the node's own netns.
mount --bind "$root/proc/sys" "$root/proc/sys"
mount --bind "$root/proc/sys/net" "$root/proc/sys/net"
mount -o remount,bind,ro "$root/proc/sys"
mount -t sysfs -o ro,nosuid,nodev,noexec sysfs "$root/sys"
mount -t tmpfs -o nosuid,mode=0755,size=1m tmpfs "$root/dev"
for dev in "null 1 3" "zero 1 5" "full 1 7" "random 1 8" "urandom 1 9" "tty 5 0"; do
  set -- $dev
  mknod -m 666 "$root/dev/$1" c "$2" "$3"
done
mkdir "$root/dev/pts" "$root/dev/shm"
mount -t devpts -o newinstance,ptmxmode=0666,mode=0620,gid=5 devpts "$root/dev/pts"
ln -s pts/ptmx "$root/dev/ptmx"
mount -t tmpfs -o nosuid,nodev,mode=1777 tmpfs "$root/dev/shm"
ln -s /proc/self/fd "$root/dev/fd"
ln -s /proc/self/fd/0 "$root/dev/stdin"
ln -s /proc/self/fd/1 "$root/dev/stdout"
ln -s /proc/self/fd/2 "$root/dev/stderr"
mount -t tmpfs -o nosuid,nodev,mode=0755 tmpfs "$root/run"
mkdir -p "$root/run/sshd" "$root/run/lock"
chmod 1777 "$root/run/lock"
hostname "$name"
exec chroot "$root" /usr/bin/tini -- /bin/sh -c 'service ssh start && exec sleep infinity'
`

const nodeEnv = { PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', LANG: 'C.UTF-8' }

export async function startNode(node: NodeState, base: string, dirs: NodeDirs, logFile: string): Promise<NodeState> {
  // Slave propagation: the host's unmounts (e.g. `ip netns del` of another node) reach this copy of the mount table, so
  // it never pins another node's network namespace; the node's own mounts still stay out of the host.
  const launcher = await startDaemon(
    'ip',
    ['netns', 'exec', node.netns, 'unshare', '--mount', '--uts', '--ipc', '--pid', '--fork', '--propagation', 'slave',
      '--', '/bin/sh', '-c', initScript, 'lab-init', base, dirs.upper, dirs.work, dirs.root, node.name],
    { logFile, env: nodeEnv },
  )
  const deadline = Date.now() + 10_000
  let init: number | undefined
  while (init === undefined) {
    init = childPids(launcher.pid)[0]
    if (init !== undefined) break
    if (!isRunning(launcher) || Date.now() > deadline) throw new Error(`${node.name} did not start; see ${logFile}`)
    await sleep(10)
  }
  return { ...node, launcher, init: recordOf(init, `${node.name} init`) }
}

export async function waitForSsh(node: NodeState, logFile: string): Promise<void> {
  await waitForTcp(node.ip, ports.ssh, `${node.name} sshd (log: ${logFile})`, node.init, 20_000)
}

export async function stopNode(node: NodeState): Promise<void> {
  // SIGKILL to PID 1 of a PID namespace kills every process in the node at once.
  killNow(node.init)
  killNow(node.launcher)
  await waitUntilGone([node.init, node.launcher])
}

export function isNodeRunning(node: NodeState): boolean {
  return isRunning(node.init)
}

export interface ExecOptions {
  input?: string
  reject?: boolean
  stdio?: 'inherit'
  env?: Record<string, string>
}

export async function execInNode(node: NodeState, argv: string[], options: ExecOptions = {}): Promise<Result> {
  if (!node.init || !isRunning(node.init)) throw new Error(`${node.name} is not running`)
  const env = Object.entries({ ...nodeEnv, HOME: '/root', USER: 'root', TERM: process.env.TERM ?? 'dumb', ...options.env })
    .map(([key, value]) => `${key}=${value}`)
  const execaOptions: Options = {
    reject: options.reject ?? true,
    ...(options.input !== undefined ? { input: options.input } : {}),
    ...(options.stdio ? { stdio: options.stdio } : {}),
  }
  // A clean environment: the host's (SSL_CERT_FILE, PATH with pyenv, …) means nothing inside the node.
  return execa(
    'nsenter',
    ['--target', String(node.init.pid), '--mount', '--uts', '--ipc', '--net', '--pid', '--root', '--wd',
      '--', '/usr/bin/env', '-i', ...env, ...argv],
    execaOptions,
  ) as unknown as Promise<Result>
}
