// bind9 (Debian's `named`) as the instance's authoritative DNS server for zones that accept RFC 2136 updates signed
// with a TSIG key: `preview.lab.test` (wildcard preview certificates over DNS-01 with certbot's rfc2136 plugin) and
// `dyn.lab.test` (records a test sets itself, e.g. an A record pointing to a node plus a stale AAAA). Bound to the
// gateway on its own port; the instance's dnsmasq forwards both zones here, so nodes and pebble resolve them.
import { randomBytes } from 'node:crypto'
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { execa } from 'execa'
import { isRunning, startDaemon, waitForTcp, type ProcessRecord } from './processes.js'
import type { InstanceState } from './state.js'

export const bindPort = 10053
export const bindZones = ['preview.lab.test', 'dyn.lab.test'] as const
export const tsigKeyName = 'pressluft-lab'
export const tsigAlgorithm = 'hmac-sha256'

export interface DnsUpdateAccess {
  server: string
  port: number
  key_name: string
  algorithm: string
  secret: string
  /** The same key in named.conf syntax, for `nsupdate -k`. */
  key_file: string
  zones: string[]
}

function tsigSecretFile(dir: string): string {
  return path.join(dir, 'tsig.secret')
}

function keyFile(dir: string): string {
  return path.join(dir, 'tsig.key')
}

function ensureTsigSecret(dir: string): string {
  const file = tsigSecretFile(dir)
  if (!existsSync(file)) writeFileSync(file, randomBytes(32).toString('base64') + '\n', { mode: 0o600 })
  const secret = readFileSync(file, 'utf8').trim()
  writeFileSync(keyFile(dir), `key "${tsigKeyName}" { algorithm ${tsigAlgorithm}; secret "${secret}"; };\n`, { mode: 0o600 })
  return secret
}

export function dnsUpdateAccess(state: InstanceState, dir: string): DnsUpdateAccess {
  return {
    server: state.network.gateway, port: bindPort, key_name: tsigKeyName, algorithm: tsigAlgorithm,
    secret: readFileSync(tsigSecretFile(dir), 'utf8').trim(), key_file: keyFile(dir), zones: [...bindZones],
  }
}

// Short TTLs and a zero negative TTL: a record a test just changed must be visible at once.
function zoneFile(zone: string, gateway: string): string {
  return [
    '$TTL 1',
    `@ IN SOA ns.${zone}. hostmaster.${zone}. 1 60 60 3600 0`,
    `@ IN NS ns.${zone}.`,
    `ns IN A ${gateway}`,
    '',
  ].join('\n')
}

export function renderNamedConfig(state: InstanceState, dir: string, logs: string, secret: string): string {
  const gateway = state.network.gateway
  return [
    'options {',
    `  directory "${dir}";`,
    `  pid-file "${path.join(dir, 'named.pid')}";`,
    `  session-keyfile "${path.join(dir, 'session.key')}";`,
    `  listen-on port ${bindPort} { ${gateway}; };`,
    '  listen-on-v6 { none; };',
    '  recursion no;',
    '  allow-query { any; };',
    '  allow-transfer { none; };',
    '  dnssec-validation no;',
    '  notify no;',
    '};',
    // No rndc control channel (it would listen on 127.0.0.1:953).
    'controls { };',
    `key "${tsigKeyName}" { algorithm ${tsigAlgorithm}; secret "${secret}"; };`,
    'logging {',
    `  channel lab { file "${path.join(logs, 'named.log')}"; severity info; print-time yes; };`,
    '  category default { lab; };',
    '  category update { lab; };',
    '  category queries { lab; };',
    '};',
    ...bindZones.map((zone) => `zone "${zone}" { type primary; file "${path.join(dir, `${zone}.zone`)}"; allow-update { key "${tsigKeyName}"; }; };`),
    '',
  ].join('\n')
}

export async function ensureBind(state: InstanceState, dir: string, logs: string): Promise<ProcessRecord> {
  mkdirSync(dir, { recursive: true })
  const secret = ensureTsigSecret(dir)
  if (state.services.bind && isRunning(state.services.bind)) return state.services.bind
  const configFile = path.join(dir, 'named.conf')
  writeFileSync(configFile, renderNamedConfig(state, dir, logs, secret))
  // Fresh zones on every start (the journal of a previous run would replay old records).
  for (const zone of bindZones) {
    writeFileSync(path.join(dir, `${zone}.zone`), zoneFile(zone, state.network.gateway))
    for (const suffix of ['.jnl', '.jnw']) rmSync(path.join(dir, `${zone}.zone${suffix}`), { force: true })
  }
  // -f: foreground (the lab records the PID); no -u: it stays root, like the lab's other daemons.
  const record = await startDaemon('named', ['-f', '-4', '-c', configFile], { logFile: path.join(logs, 'named.stderr.log') })
  await waitForTcp(state.network.gateway, bindPort, 'named', record)
  return record
}

export interface DnsRecord {
  name: string
  type: 'A' | 'AAAA' | 'TXT' | 'CNAME'
  /** The values of the record set; empty deletes it. */
  values: string[]
  ttl?: number
}

/** Replaces record sets in the lab's bind9 zones by an RFC 2136 update signed with the lab's TSIG key (nsupdate). */
export async function updateDnsRecords(access: DnsUpdateAccess, records: DnsRecord[]): Promise<void> {
  const lines = [`server ${access.server} ${access.port}`]
  for (const record of records) {
    const name = record.name.replace(/\.$/, '')
    if (!access.zones.some((zone) => name === zone || name.endsWith(`.${zone}`))) {
      throw new Error(`${name} is in none of the lab's dynamic zones (${access.zones.join(', ')})`)
    }
    lines.push(`update delete ${name}. ${record.type}`)
    for (const value of record.values) lines.push(`update add ${name}. ${record.ttl ?? 1} ${record.type} ${value}`)
    // One UPDATE message per record set: a message may only touch one zone.
    lines.push('send')
  }
  lines.push('')
  // The key goes in through a root-only file, never on the command line.
  await execa('nsupdate', ['-k', access.key_file], { input: lines.join('\n') })
}
