// A lock file holding the owner's PID and start time; a lock whose owner died is taken over.
import { readFileSync, unlinkSync, writeFileSync, mkdirSync } from 'node:fs'
import path from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { isRunning, recordOf } from './processes.js'

function tryAcquire(file: string, owner: string): boolean {
  try {
    writeFileSync(file, owner, { flag: 'wx' })
    return true
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error
    return false
  }
}

function ownerIsAlive(file: string): boolean {
  try {
    const [pid, startTime] = readFileSync(file, 'utf8').trim().split(' ')
    return isRunning({ pid: Number(pid), start_time: startTime, command: 'lock owner' })
  } catch {
    return true // vanished or half-written: just retry
  }
}

export async function withLock<T>(file: string, what: string, fn: () => Promise<T>, timeoutMs = 15 * 60_000): Promise<T> {
  mkdirSync(path.dirname(file), { recursive: true })
  const me = recordOf(process.pid, 'lab')
  const owner = `${me.pid} ${me.start_time}`
  const deadline = Date.now() + timeoutMs
  let announced = false
  while (!tryAcquire(file, owner)) {
    if (!ownerIsAlive(file)) {
      try { unlinkSync(file) } catch { /* another waiter removed it first */ }
      continue
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what} lock ${file}`)
    if (!announced) { process.stderr.write(`[lab] waiting for ${what} lock held by another lab command\n`); announced = true }
    await sleep(200)
  }
  try {
    return await fn()
  } finally {
    try { unlinkSync(file) } catch { /* already gone */ }
  }
}
