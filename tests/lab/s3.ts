// The instance's S3 server (s3rver): a bucket and a fresh key pair per instance, bound to the gateway address.
import { randomBytes } from 'node:crypto'
import { mkdirSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { ports } from './addresses.js'
import { isRunning, startDaemon, waitForTcp, type ProcessRecord } from './processes.js'
import type { InstanceState, S3Credentials } from './state.js'

const here = path.dirname(fileURLToPath(import.meta.url))
const repoRoot = path.resolve(here, '../..')

export function newS3Credentials(): S3Credentials {
  return {
    region: 'us-east-1',
    bucket: 'pressluft-lab',
    access_key_id: `LAB${randomBytes(8).toString('hex').toUpperCase()}`,
    secret_access_key: randomBytes(24).toString('base64url'),
  }
}

export function s3Endpoint(state: InstanceState): string {
  return `http://${state.network.gateway}:${ports.s3}`
}

export async function ensureS3(state: InstanceState, dataDir: string, logs: string): Promise<ProcessRecord> {
  if (state.services.s3 && isRunning(state.services.s3)) return state.services.s3
  mkdirSync(dataDir, { recursive: true })
  const { bucket, access_key_id, secret_access_key } = state.s3
  // node --import tsx keeps it one process, so the recorded PID is the server itself.
  const record = await startDaemon(
    process.execPath,
    ['--import', 'tsx', path.join(here, 's3-server.ts'),
      state.network.gateway, String(ports.s3), dataDir, bucket, access_key_id, secret_access_key],
    { logFile: path.join(logs, 's3rver.log'), cwd: repoRoot },
  )
  await waitForTcp(state.network.gateway, ports.s3, 's3rver', record)
  return record
}
