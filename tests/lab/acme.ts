// pebble as the instance's ACME server, serving its directory over HTTPS with a certificate from the instance's own CA.
import { existsSync, mkdirSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { execa } from 'execa'
import { ports } from './addresses.js'
import { isRunning, startDaemon, waitForTcp, type ProcessRecord } from './processes.js'
import type { InstanceState } from './state.js'

export interface AcmeFiles {
  caCert: string
  caKey: string
  cert: string
  key: string
  config: string
}

export function acmeFiles(dir: string): AcmeFiles {
  return {
    caCert: path.join(dir, 'ca.crt'),
    caKey: path.join(dir, 'ca.key'),
    cert: path.join(dir, 'server.crt'),
    key: path.join(dir, 'server.key'),
    config: path.join(dir, 'pebble-config.json'),
  }
}

export function acmeDirectoryUrl(state: InstanceState): string {
  return `https://${state.network.gateway}:${ports.acme}/dir`
}

async function openssl(args: string[]): Promise<void> {
  await execa('openssl', args)
}

export async function ensureCertificates(state: InstanceState, dir: string): Promise<AcmeFiles> {
  const files = acmeFiles(dir)
  if (existsSync(files.cert)) return files
  mkdirSync(dir, { recursive: true })
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes']
  await openssl(['req', '-x509', ...ec, '-keyout', files.caKey, '-out', files.caCert, '-days', '3650',
    '-subj', `/CN=Pressluft lab CA (${state.instance})`,
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign'])
  const csr = path.join(dir, 'server.csr')
  await openssl(['req', ...ec, '-keyout', files.key, '-out', csr, '-subj', '/CN=acme.lab.test'])
  const extensions = path.join(dir, 'server.ext')
  writeFileSync(extensions, [
    `subjectAltName=IP:${state.network.gateway},DNS:acme.lab.test`,
    'basicConstraints=critical,CA:FALSE',
    'keyUsage=critical,digitalSignature',
    'extendedKeyUsage=serverAuth',
    '',
  ].join('\n'))
  await openssl(['x509', '-req', '-in', csr, '-CA', files.caCert, '-CAkey', files.caKey, '-CAcreateserial',
    '-out', files.cert, '-days', '825', '-extfile', extensions])
  return files
}

export async function ensureAcme(state: InstanceState, dir: string, logs: string): Promise<ProcessRecord> {
  const files = await ensureCertificates(state, dir)
  if (state.services.acme && isRunning(state.services.acme)) return state.services.acme
  const gateway = state.network.gateway
  writeFileSync(files.config, JSON.stringify({
    pebble: {
      listenAddress: `${gateway}:${ports.acme}`,
      managementListenAddress: `${gateway}:${ports.acmeManagement}`,
      certificate: files.cert,
      privateKey: files.key,
      // Validation goes to the nodes' real ports, as Let's Encrypt would.
      httpPort: 80,
      tlsPort: 443,
      ocspResponderURL: '',
      externalAccountBindingRequired: false,
    },
  }, null, 2))
  const record = await startDaemon('pebble', ['-config', files.config, '-dnsserver', `${gateway}:${ports.dns}`], {
    logFile: path.join(logs, 'pebble.log'),
    // No random sleeps before validation and no deliberately rejected nonces: tests want speed and determinism.
    env: { ...process.env, PEBBLE_VA_NOSLEEP: '1', PEBBLE_WFE_NONCEREJECT: '0' } as Record<string, string>,
  })
  await waitForTcp(gateway, ports.acme, 'pebble', record)
  return record
}
