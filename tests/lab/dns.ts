// dnsmasq for one instance: the lab.test zone and sslip.io-style names for its nodes, bound to the instance's gateway only.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { dashedIp, ports, sharedServicesIp } from './addresses.js'
import { bindPort, bindZones } from './bind.js'
import { isRunning, startDaemon, stopProcess, waitForTcp, type ProcessRecord } from './processes.js'
import type { InstanceState } from './state.js'

export const dnsProbeName = 'probe.lab.test'

export function renderDnsmasqConfig(state: InstanceState, logFile: string): string {
  const gateway = state.network.gateway
  const lines = [
    `listen-address=${gateway}`,
    'bind-interfaces',
    `port=${ports.dns}`,
    // Authoritative for the test names only: no upstream, so nothing the nodes ask ever leaves the lab.
    'no-resolv',
    'no-hosts',
    'no-poll',
    'local=/lab.test/',
    'local=/sslip.io/',
    `log-facility=${logFile}`,
    `pid-file=`,
    `address=/${dnsProbeName}/${gateway}`,
    `address=/acme.lab.test/${gateway}`,
    `address=/s3.lab.test/${gateway}`,
    `address=/apt.lab.test/${sharedServicesIp}`,
    // The dynamic zones live in the instance's bind9 (tests/lab/bind.ts); nothing cached, so updates show at once.
    ...bindZones.map((zone) => `server=/${zone}/${gateway}#${bindPort}`),
    'cache-size=0',
    // address=/x/ also answers every name below x, so site1.node1.lab.test and <id>.<dashed-ip>.sslip.io work.
    ...state.nodes.flatMap((node) => [
      `address=/${node.name}.lab.test/${node.ip}`,
      `address=/${dashedIp(node.ip)}.sslip.io/${node.ip}`,
    ]),
  ]
  return lines.join('\n') + '\n'
}

export async function ensureDns(state: InstanceState, dir: string, logs: string): Promise<ProcessRecord> {
  mkdirSync(dir, { recursive: true })
  const configFile = path.join(dir, 'dnsmasq.conf')
  const config = renderDnsmasqConfig(state, path.join(logs, 'dnsmasq.log'))
  const unchanged = existsSync(configFile) && readFileSync(configFile, 'utf8') === config
  const current = state.services.dns
  if (unchanged && current && isRunning(current)) return current
  await stopProcess(current)
  writeFileSync(configFile, config)
  const record = await startDaemon('dnsmasq', ['--keep-in-foreground', `--conf-file=${configFile}`], {
    logFile: path.join(logs, 'dnsmasq.stderr.log'),
  })
  await waitForTcp(state.network.gateway, ports.dns, 'dnsmasq', record)
  return record
}
