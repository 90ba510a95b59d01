// Start host daemons detached, recognise them later by PID + start time, and stop exactly those PIDs.
import { openSync, closeSync, readFileSync } from 'node:fs'
import net from 'node:net'
import { setTimeout as sleep } from 'node:timers/promises'
import { execa } from 'execa'

export interface ProcessRecord {
  pid: number
  // Kernel start time (clock ticks since boot) — tells a recorded daemon apart from a later process that reused its PID.
  start_time: string
  command: string
}

function readStat(pid: number): { state: string; startTime: string } | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    return { state: fields[0], startTime: fields[19] }
  } catch {
    return undefined
  }
}

export function recordOf(pid: number, command: string): ProcessRecord {
  const stat = readStat(pid)
  if (!stat) throw new Error(`process ${pid} (${command}) exited right after start`)
  return { pid, start_time: stat.startTime, command }
}

export function isRunning(record: ProcessRecord | undefined): boolean {
  if (!record) return false
  const stat = readStat(record.pid)
  return stat !== undefined && stat.startTime === record.start_time && stat.state !== 'Z'
}

export function childPids(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number)
  } catch {
    return []
  }
}

export async function startDaemon(
  command: string,
  args: string[],
  options: { logFile: string; env?: Record<string, string>; cwd?: string },
): Promise<ProcessRecord> {
  // execa's types list only descriptors 3–9, its runtime passes any descriptor through to the child.
  const log = openSync(options.logFile, 'a') as 3
  try {
    // cleanup:false and detached: the daemon must outlive the CLI process that started it.
    const child = execa(command, args, {
      detached: true,
      cleanup: false,
      reject: false,
      stdin: 'ignore',
      stdout: log,
      stderr: log,
      env: options.env ?? {},
      extendEnv: options.env === undefined,
      cwd: options.cwd ?? process.cwd(),
    })
    child.unref()
    if (child.pid === undefined) throw new Error(`could not start ${command}`)
    return recordOf(child.pid, `${command} ${args.join(' ')}`)
  } finally {
    closeSync(log)
  }
}

export async function stopProcess(record: ProcessRecord | undefined, graceMs = 5000): Promise<void> {
  if (!isRunning(record) || !record) return
  process.kill(record.pid, 'SIGTERM')
  const deadline = Date.now() + graceMs
  while (Date.now() < deadline) {
    if (!isRunning(record)) return
    await sleep(50)
  }
  if (isRunning(record)) process.kill(record.pid, 'SIGKILL')
  while (isRunning(record)) await sleep(20)
}

export function killNow(record: ProcessRecord | undefined): void {
  if (record && isRunning(record)) process.kill(record.pid, 'SIGKILL')
}

export async function waitUntilGone(records: (ProcessRecord | undefined)[], timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (records.some(isRunning)) {
    if (Date.now() > deadline) throw new Error(`processes still running: ${records.filter(isRunning).map((r) => r?.pid).join(', ')}`)
    await sleep(20)
  }
}

export function tcpAccepts(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port, timeout: 1000 })
    socket.once('connect', () => { socket.destroy(); resolve(true) })
    socket.once('timeout', () => { socket.destroy(); resolve(false) })
    socket.once('error', () => resolve(false))
  })
}

export async function waitForTcp(host: string, port: number, what: string, record?: ProcessRecord, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!(await tcpAccepts(host, port))) {
    if (record && !isRunning(record)) throw new Error(`${what} exited before listening on ${host}:${port}`)
    if (Date.now() > deadline) throw new Error(`${what} did not listen on ${host}:${port} within ${timeoutMs} ms`)
    await sleep(100)
  }
}
