// The apt-cacher-ng shared by all lab instances: our own config, bound only to the shared lab address, stopped when no lab bridge is left.
import { mkdirSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { aptProxyPort, sharedLink, sharedServicesIp } from './addresses.js'
import { deleteLink, ensureSharedLink, linkNames } from './network.js'
import { sharedDir } from './paths.js'
import { isRunning, startDaemon, stopProcess, tcpAccepts, waitForTcp } from './processes.js'
import { readSharedState, writeSharedState } from './state.js'

export const aptProxyUrl = `http://${sharedServicesIp}:${aptProxyPort}`
const cacheDir = path.join(sharedDir, 'apt-cacher-ng', 'cache')

function writeConfig(confDir: string): void {
  const home = path.dirname(confDir)
  mkdirSync(confDir, { recursive: true })
  mkdirSync(path.join(home, 'log'), { recursive: true })
  mkdirSync(cacheDir, { recursive: true })
  writeFileSync(
    path.join(confDir, 'acng.conf'),
    [
      `CacheDir: ${cacheDir}`,
      `LogDir: ${path.join(home, 'log')}`,
      'SupportDir: /usr/lib/apt-cacher-ng',
      `Port: ${aptProxyPort}`,
      `BindAddress: ${sharedServicesIp}`,
      `SocketPath: ${path.join(home, 'socket')}`,
      `PidFile: ${path.join(home, 'pid')}`,
      'ForeGround: 1',
      'ReportPage: acng-report.html',
      'ExThreshold: 4',
      'ConnectProto: v4 v6',
      '',
    ].join('\n'),
  )
}

// Caller holds the shared lock.
export async function ensureAptProxy(log: (line: string) => void): Promise<void> {
  await ensureSharedLink(sharedLink)
  const shared = readSharedState()
  if (isRunning(shared.apt_proxy)) {
    // Rewritten so a record still in the pre-/run place becomes visible to every checkout.
    writeSharedState({ apt_cache_dir: cacheDir, ...shared })
    return
  }
  if (await tcpAccepts(sharedServicesIp, aptProxyPort)) {
    throw new Error(`something this lab did not record already listens on ${aptProxyUrl}; stop it first`)
  }
  const confDir = path.join(sharedDir, 'apt-cacher-ng', 'conf')
  writeConfig(confDir)
  log(`starting apt-cacher-ng on ${aptProxyUrl}`)
  const record = await startDaemon('apt-cacher-ng', ['-c', confDir], {
    logFile: path.join(sharedDir, 'apt-cacher-ng', 'daemon.log'),
  })
  writeSharedState({ apt_proxy: record, apt_cache_dir: cacheDir })
  await waitForTcp(sharedServicesIp, aptProxyPort, 'apt-cacher-ng', record)
}

// The cache of the running proxy, which may belong to another checkout of the repository.
export function aptCacheDir(): string {
  return readSharedState().apt_cache_dir ?? cacheDir
}

// Caller holds the shared lock. Lab bridges are machine-wide facts, so they count the labs of every checkout.
export async function stopAptProxyIfUnused(): Promise<void> {
  if ((await linkNames()).some((name) => /^plab\d+$/.test(name))) return
  await stopProcess(readSharedState().apt_proxy)
  writeSharedState({})
  await deleteLink(sharedLink)
}
