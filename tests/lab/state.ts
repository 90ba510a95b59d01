// The state file of each instance (.lab/<instance>/state.json) and of the shared services: what `down` must undo.
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import type { InstanceNetwork } from './addresses.js'
import { instancePaths, labRoot, machineRunDir, sharedDir } from './paths.js'
import type { ProcessRecord } from './processes.js'

export interface NodeState {
  name: string
  number: number
  ip: string
  netns: string
  veth: string
  // `ip netns exec … unshare` on the host, and its child: PID 1 of the node (tini), whose death empties the node.
  launcher?: ProcessRecord
  init?: ProcessRecord
}

export interface S3Credentials {
  region: string
  bucket: string
  access_key_id: string
  secret_access_key: string
}

export interface InstanceState {
  instance: string
  network: InstanceNetwork
  s3: S3Credentials
  nodes: NodeState[]
  services: { dns?: ProcessRecord; acme?: ProcessRecord; s3?: ProcessRecord; git?: ProcessRecord; bind?: ProcessRecord }
}

export interface SharedState {
  apt_proxy?: ProcessRecord
  apt_cache_dir?: string
}

function writeJsonAtomically(file: string, value: unknown): void {
  mkdirSync(path.dirname(file), { recursive: true })
  const temp = `${file}.${process.pid}.tmp`
  writeFileSync(temp, JSON.stringify(value, null, 2) + '\n')
  renameSync(temp, file)
}

export function readState(instance: string): InstanceState | undefined {
  const file = instancePaths(instance).state
  return existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as InstanceState) : undefined
}

export function writeState(state: InstanceState): void {
  writeJsonAtomically(instancePaths(state.instance).state, state)
}

export function allInstanceStates(): InstanceState[] {
  if (!existsSync(labRoot)) return []
  return readdirSync(labRoot)
    .filter((entry) => !entry.startsWith('_'))
    .map((entry) => {
      try {
        return readState(entry)
      } catch {
        return undefined
      }
    })
    .filter((state): state is InstanceState => state !== undefined)
}

// The apt proxy and its address are machine-wide, whichever checkout started them, so their record and lock live in /run.
const sharedStateFile = path.join(machineRunDir, 'apt-proxy.json')
// Where versions before the move to /run recorded a proxy that may still be running.
const legacySharedStateFile = path.join(sharedDir, 'state.json')

export function readSharedState(): SharedState {
  for (const file of [sharedStateFile, legacySharedStateFile]) {
    if (existsSync(file)) return JSON.parse(readFileSync(file, 'utf8')) as SharedState
  }
  return {}
}

export function writeSharedState(state: SharedState): void {
  writeJsonAtomically(sharedStateFile, state)
  rmSync(legacySharedStateFile, { force: true })
}

export const sharedLockFile = path.join(machineRunDir, 'lock')
