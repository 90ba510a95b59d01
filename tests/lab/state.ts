// The state file of each instance (.lab/<instance>/state.json) and of the shared services: what `down` must undo.
import { existsSync, readdirSync, readFileSync, renameSync, writeFileSync, mkdirSync } from 'node:fs'
import path from 'node:path'
import type { InstanceNetwork } from './addresses.js'
import { instancePaths, labRoot, sharedDir } from './paths.js'
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
  services: { dns?: ProcessRecord; acme?: ProcessRecord; s3?: ProcessRecord }
}

export interface SharedState {
  apt_proxy?: ProcessRecord
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

const sharedStateFile = path.join(sharedDir, 'state.json')

export function readSharedState(): SharedState {
  return existsSync(sharedStateFile) ? (JSON.parse(readFileSync(sharedStateFile, 'utf8')) as SharedState) : {}
}

export function writeSharedState(state: SharedState): void {
  writeJsonAtomically(sharedStateFile, state)
}

export const sharedLockFile = path.join(sharedDir, 'lock')
