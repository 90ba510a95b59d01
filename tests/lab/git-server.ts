// The instance's repository server: Debian git's `git http-backend` (smart HTTP, clone/fetch only) behind a small
// HTTPS server on the gateway address, with a certificate from the lab CA. Bare repositories a test puts under
// <run>/git/ are cloned as https://<gateway>:9443/<name>.git; files under <run>/git/files/ are served as
// https://<gateway>:9443/files/<path> (upload artifacts). Run as a module it starts the lab service; run as a script
// (`node --import tsx git-server.ts <address> <port> <dir> <cert> <key>`) it is the server process itself.
import { spawn } from 'node:child_process'
import { createReadStream, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import https from 'node:https'
import path from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { execa } from 'execa'
import { acmeFiles } from './acme.js'
import { isRunning, startDaemon, waitForTcp, type ProcessRecord } from './processes.js'
import type { InstanceState } from './state.js'

export const gitPort = 9443
const here = path.dirname(fileURLToPath(import.meta.url))
const repoRoot = path.resolve(here, '../..')

export function gitBaseDir(run: string): string {
  return path.join(run, 'git')
}

export function gitUrl(state: InstanceState): string {
  return `https://${state.network.gateway}:${gitPort}/`
}

// A server certificate for the gateway address signed by the instance's lab CA (the one pebble's certificate uses).
async function ensureCertificate(state: InstanceState, acmeDir: string, dir: string): Promise<{ cert: string; key: string }> {
  const files = { cert: path.join(dir, 'server.crt'), key: path.join(dir, 'server.key') }
  if (existsSync(files.cert)) return files
  mkdirSync(dir, { recursive: true })
  const ca = acmeFiles(acmeDir)
  const csr = path.join(dir, 'server.csr')
  await execa('openssl', ['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', files.key, '-out', csr, '-subj', '/CN=git.lab.test'])
  const ext = path.join(dir, 'server.ext')
  writeFileSync(ext, `subjectAltName=IP:${state.network.gateway},DNS:git.lab.test\nbasicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n`)
  await execa('openssl', ['x509', '-req', '-in', csr, '-CA', ca.caCert, '-CAkey', ca.caKey, '-CAcreateserial', '-out', files.cert, '-days', '825', '-extfile', ext])
  return files
}

export async function ensureGitServer(state: InstanceState, run: string, acmeDir: string, logs: string): Promise<ProcessRecord> {
  if (state.services.git && isRunning(state.services.git)) return state.services.git
  const base = gitBaseDir(run)
  mkdirSync(path.join(base, 'files'), { recursive: true })
  const { cert, key } = await ensureCertificate(state, acmeDir, path.join(run, 'git-tls'))
  const record = await startDaemon(process.execPath,
    ['--import', 'tsx', path.join(here, 'git-server.ts'), state.network.gateway, String(gitPort), base, cert, key],
    { logFile: path.join(logs, 'git-server.log'), cwd: repoRoot })
  await waitForTcp(state.network.gateway, gitPort, 'git server', record)
  return record
}

function serve(address: string, port: number, base: string, cert: string, key: string): void {
  const server = https.createServer({ cert: readFileSync(cert), key: readFileSync(key) }, (req, res) => {
    const url = new URL(req.url ?? '/', 'https://lab')
    const log = (status: number) => process.stdout.write(`${new Date().toISOString()} ${req.socket.remoteAddress} ${req.method} ${url.pathname} ${status}\n`)
    if (url.pathname.startsWith('/files/')) {
      const file = path.resolve(base, 'files', decodeURIComponent(url.pathname.slice('/files/'.length)))
      const ok = file.startsWith(path.join(base, 'files') + path.sep) && existsSync(file) && statSync(file).isFile()
      log(ok ? 200 : 404)
      if (!ok || req.method !== 'GET') { res.writeHead(404).end(); return }
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': statSync(file).size })
      createReadStream(file).pipe(res)
      return
    }
    // Smart HTTP through the CGI program; push (receive-pack) stays disabled, as http-backend does for unauthenticated users.
    const cgi = spawn('git', ['http-backend'], {
      env: {
        PATH: process.env.PATH ?? '/usr/bin:/bin', GIT_PROJECT_ROOT: base, GIT_HTTP_EXPORT_ALL: '1',
        REQUEST_METHOD: req.method ?? 'GET', PATH_INFO: decodeURIComponent(url.pathname), QUERY_STRING: url.search.slice(1),
        CONTENT_TYPE: req.headers['content-type'] ?? '', REMOTE_ADDR: req.socket.remoteAddress ?? '',
        HTTP_CONTENT_ENCODING: String(req.headers['content-encoding'] ?? ''), GIT_PROTOCOL: String(req.headers['git-protocol'] ?? ''),
      },
    })
    req.pipe(cgi.stdin)
    let head = Buffer.alloc(0)
    let headersDone = false
    cgi.stdout.on('data', (chunk: Buffer) => {
      if (headersDone) { res.write(chunk); return }
      head = Buffer.concat([head, chunk])
      const end = head.indexOf('\r\n\r\n')
      if (end < 0) return
      headersDone = true
      let status = 200
      const headers: Record<string, string> = {}
      for (const line of head.subarray(0, end).toString('latin1').split('\r\n')) {
        const colon = line.indexOf(':')
        const name = line.slice(0, colon).trim()
        const value = line.slice(colon + 1).trim()
        if (name.toLowerCase() === 'status') status = Number.parseInt(value, 10)
        else headers[name] = value
      }
      log(status)
      res.writeHead(status, headers)
      res.write(head.subarray(end + 4))
    })
    cgi.stderr.on('data', (chunk: Buffer) => process.stdout.write(chunk))
    cgi.on('close', () => { if (!headersDone) { log(500); res.writeHead(500) } res.end() })
  })
  server.listen(port, address)
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const [address, port, base, cert, key] = process.argv.slice(2)
  if (!key) throw new Error('usage: git-server <address> <port> <base-dir> <cert> <key>')
  serve(address, Number(port), base, cert, key)
}
