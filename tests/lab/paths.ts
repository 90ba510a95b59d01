// Where the lab keeps its files: one folder per instance (PRESSLUFT_LAB) plus a shared folder for the base image and apt cache.
import path from 'node:path'
import { fileURLToPath } from 'node:url'

export const labRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../.lab')
// Instance names are [a-z0-9-], so this leading underscore can never collide with one.
export const sharedDir = path.join(labRoot, '_shared')

// Machine-wide runtime state (tmpfs, gone after a reboot like the links and processes it describes).
export const machineRunDir = '/run/pressluft-lab'

const instancePattern = /^[a-z0-9][a-z0-9-]{0,31}$/

export function instanceName(name: string | undefined = process.env.PRESSLUFT_LAB): string {
  const chosen = name && name.length > 0 ? name : 'default'
  if (!instancePattern.test(chosen)) {
    throw new Error(`lab instance name "${chosen}" must match ${instancePattern} (set PRESSLUFT_LAB)`)
  }
  return chosen
}

export interface InstancePaths {
  dir: string
  state: string
  lock: string
  sshKey: string
  knownHosts: string
  authorizedKeys: string
  // Everything under run/ is removed by `down`; the key pair above survives it.
  run: string
  logs: string
  nodes: string
  dns: string
  acme: string
  s3: string
}

export function instancePaths(instance: string): InstancePaths {
  const dir = path.join(labRoot, instance)
  const run = path.join(dir, 'run')
  return {
    dir,
    state: path.join(dir, 'state.json'),
    lock: path.join(dir, 'lock'),
    sshKey: path.join(dir, 'ssh', 'id_ed25519'),
    knownHosts: path.join(run, 'known_hosts'),
    authorizedKeys: path.join(run, 'authorized_keys'),
    run,
    logs: path.join(run, 'logs'),
    nodes: path.join(run, 'nodes'),
    dns: path.join(run, 'dns'),
    acme: path.join(run, 'acme'),
    s3: path.join(run, 's3'),
  }
}
