// Custom domain benchmark on a lab node, in one run (issue 10):
//  1. `202` of POST /api/environments/{id}/domains → https://<domain>/ answering 200 with a certificate for that name
//     issued by the lab's ACME server (pebble) (goal ≤ 30 s). The domain is removed again after each round
//     (DELETE /api/domains/{id}, not timed), so every round adds the environment's primary domain.
//  2. baseline on the same node, the same work minus Pressluft, in one SSH session: write a port-80 server block with
//     the ACME challenge location + `nginx -s reload`, bare `certbot certonly --webroot` for another name under
//     node1.lab.test against the same pebble, write a 443 server block with that certificate + `nginx -s reload`,
//     → https://<name>/ answering 200 with the new certificate. (The baseline block answers a fixed text, not WordPress.)
// Run (root, lab packages installed):  PRESSLUFT_LAB=bench npm run bench:domains   (BENCH_SAMPLES=3)
// It brings up the lab instance and provisions node1 through the e2e setup (PRESSLUFT_E2E_KEEP_LAB=1 reuses a kept one),
// creates a site and measures with a poll loop of ≤ 5 requests/s against the lab address only. The lab DNS answers any
// name under node1.lab.test with node1's address, for the node's DNS check and for pebble's HTTP-01 validation.
import fs from 'node:fs'
import https from 'node:https'
import type { TLSSocket } from 'node:tls'
import { execa } from 'execa'
import setup from '../tests/support/e2e-global-setup.js'
import type { E2eRun } from '../tests/support/e2e-run.js'
import { e2eControlPlaneEnv } from '../tests/support/e2e-run.js'
import { createTestControlPlane, type TestControlPlane } from '../tests/support/control-plane.js'
import { waitForJob } from '../tests/support/jobs.js'
import { labFiles, labStatus } from '../tests/lab/lab.js'
import { queryOne } from '../runtime/store/db.js'

const SAMPLES = Number(process.env.BENCH_SAMPLES ?? 3)
const instance = process.env.PRESSLUFT_LAB ?? 'bench'
process.env.PRESSLUFT_E2E_LAB = instance

/** HTTPS to ip with SNI/Host = host; answers only when the chain verifies against ca and the certificate names host. */
function httpsStatus(ip: string, host: string, ca: string): Promise<number> {
  return new Promise((resolve) => {
    const req = https.request({
      host: ip, port: 443, path: `/?pl_bench=${Date.now()}`, servername: host, headers: { host }, ca, timeout: 10_000, agent: false,
      checkServerIdentity: (_name, cert) => (cert.subjectaltname?.split(', ').includes(`DNS:${host}`) ? undefined : new Error(`certificate does not name ${host}`)),
    }, (res) => {
      const issuer = String((res.socket as TLSSocket).getPeerCertificate().issuer?.CN ?? '')
      res.resume()
      res.on('end', () => resolve(/pebble/i.test(issuer) ? res.statusCode ?? 0 : 0))
    })
    req.on('error', () => resolve(0))
    req.on('timeout', () => req.destroy(new Error('timeout')))
    req.end()
  })
}

/** Polls (≤ 5 requests/s, gives up after limitMs) until https://host/ answers 200 with its pebble certificate; returns when it did. */
async function answeringAt(ip: string, host: string, ca: string, limitMs = 600_000): Promise<number> {
  const deadline = Date.now() + limitMs
  while (Date.now() < deadline) {
    const started = Date.now()
    if (await httpsStatus(ip, host, ca) === 200) return started
    await new Promise((r) => setTimeout(r, Math.max(0, 200 - (Date.now() - started))))
  }
  throw new Error(`https://${host}/ did not answer 200 with a pebble certificate within ${limitMs} ms`)
}

function fetchText(url: string, ca: string): Promise<string> {
  return new Promise((resolve, reject) => {
    https.get(url, { ca, timeout: 10_000 }, (res) => {
      let body = ''
      res.on('data', (d) => { body += d })
      res.on('end', () => (res.statusCode === 200 ? resolve(body) : reject(new Error(`${url} answered ${res.statusCode}`))))
    }).on('error', reject)
  })
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.floor(sorted.length / 2)]
}

function stats(values: number[]): string {
  const sorted = [...values].sort((a, b) => a - b)
  return `median ${median(values).toFixed(2)} s (min ${sorted[0].toFixed(2)}, max ${sorted[sorted.length - 1].toFixed(2)}, n=${values.length})`
}

function baselineScript(name: string, acmeUrl: string): string {
  const conf = `/etc/nginx/sites-enabled/pl-bench-${name}.conf`
  const port80 = `server {\n    listen 80;\n    server_name ${name};\n    location ^~ /.well-known/acme-challenge/ {\n        root /var/www/acme;\n        try_files $uri =404;\n    }\n    location / {\n        return 301 https://${name}$request_uri;\n    }\n}\n`
  const port443 = `server {\n    listen 443 ssl http2;\n    server_name ${name};\n    ssl_certificate /etc/letsencrypt/live/${name}/fullchain.pem;\n    ssl_certificate_key /etc/letsencrypt/live/${name}/privkey.pem;\n    location / {\n        return 200 "baseline\\n";\n    }\n}\n`
  return [
    'set -e',
    `cat > ${conf} <<'PLBENCH'\n${port80}PLBENCH`,
    'nginx -s reload',
    `REQUESTS_CA_BUNDLE=/etc/pressluft/acme-ca.pem certbot certonly --non-interactive --quiet --webroot --webroot-path /var/www/acme --server ${acmeUrl} --cert-name ${name} --domain ${name}`,
    `cat >> ${conf} <<'PLBENCH'\n${port443}PLBENCH`,
    'nginx -s reload',
  ].join('\n')
}

async function main(): Promise<void> {
  let run: E2eRun | undefined
  const teardown = await setup({ provide: (_key: string, value: E2eRun) => { run = value } } as never)
  const lab = labStatus({ instance })
  const node = lab.nodes[0]
  const cp: TestControlPlane = await createTestControlPlane(e2eControlPlaneEnv(lab), { startScheduler: true }, { dataDir: run!.dataDir })
  const files = labFiles({ instance })
  const ssh = (cmd: string) => execa('ssh', ['-i', node.ssh_key, '-o', `UserKnownHostsFile=${files.knownHosts}`, '-o', 'StrictHostKeyChecking=yes', '-o', 'BatchMode=yes', `root@${node.ip}`, cmd])
  const baselineNames: string[] = []
  try {
    await cp.login()
    // pebble makes a new root on every start; its management port serves it (over TLS from the lab CA).
    const pebbleRoot = await fetchText(lab.acme.directory_url.replace(':14000/dir', ':15000/roots/0'), fs.readFileSync(lab.acme.ca_cert, 'utf8'))
    const stamp = Date.now().toString(36)
    const slug = `bdom${stamp}`
    const created = await cp.request('POST', '/api/sites', { name: 'Domain bench', slug, node_id: run!.nodeId })
    const createJob = await waitForJob(cp, (await created.json()).job_id)
    if (createJob.status !== 'succeeded') throw new Error(`site_create ${createJob.status}: ${createJob.error_message}`)
    const env = await queryOne<{ id: string }>(cp.services.db,
      "SELECT e.id FROM environments e JOIN sites s ON s.id = e.site_id WHERE s.slug = ? AND e.environment_type = 'production'", [slug])

    const oursTimes: number[] = []
    const jobTimes: number[] = []
    const baselineTimes: number[] = []
    const rounds: string[] = []
    for (let i = 1; i <= SAMPLES; i++) {
      // 1. Pressluft: 202 → https://<domain>/ answering 200 with its new certificate.
      const hostname = `b${stamp}-${i}.node1.lab.test`
      const res = await cp.request('POST', `/api/environments/${env!.id}/domains`, { hostname })
      const accepted = Date.now()
      if (res.status !== 202) throw new Error(`POST …/domains answered ${res.status}: ${await res.text()}`)
      const jobId = (await res.json()).job_id as string
      const ours = (await answeringAt(node.ip, hostname, pebbleRoot) - accepted) / 1000
      const job = await waitForJob(cp, jobId, 600_000)
      if (job.status !== 'succeeded') throw new Error(`domain_add ${job.status}: ${job.error_code} ${job.error_message}`)
      const finished = await queryOne<{ finished_at: string }>(cp.services.db, 'SELECT finished_at FROM jobs WHERE id = ?', [jobId])
      oursTimes.push(ours)
      jobTimes.push((Date.parse(finished!.finished_at) - accepted) / 1000)

      // 2. baseline: the same certificate and server blocks by hand over SSH, for another name on the same node.
      const name = `base${stamp}-${i}.node1.lab.test`
      baselineNames.push(name)
      const t0 = Date.now()
      await ssh(baselineScript(name, lab.acme.directory_url))
      const base = (await answeringAt(node.ip, name, pebbleRoot) - t0) / 1000
      baselineTimes.push(base)
      rounds.push(`  round ${i}: ours ${ours.toFixed(2)} s (job finished ${jobTimes[jobTimes.length - 1].toFixed(2)} s after 202), baseline ${base.toFixed(2)} s, ratio ${(ours / base).toFixed(1)}x`)

      // Not timed: remove the domain so the next round adds the primary domain again.
      const domains = await (await cp.request('GET', `/api/environments/${env!.id}/domains`)).json() as { items: { id: string; hostname: string }[] }
      const domainId = domains.items.find((d) => d.hostname === hostname)!.id
      const removed = await cp.request('DELETE', `/api/domains/${domainId}`)
      if (removed.status !== 202) throw new Error(`DELETE /api/domains/${domainId} answered ${removed.status}: ${await removed.text()}`)
      const removeJob = await waitForJob(cp, (await removed.json()).job_id, 600_000)
      if (removeJob.status !== 'succeeded') throw new Error(`domain_remove ${removeJob.status}: ${removeJob.error_message}`)
    }

    const load = fs.readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')
    console.log(`domains bench on lab "${instance}" node ${node.ip}, ${new Date().toISOString()}, load average ${load}`)
    for (const line of rounds) console.log(line)
    console.log(`  202 of POST …/domains → https answering with the new certificate: ${stats(oursTimes)}   (goal ≤ 30 s)`)
    console.log(`  202 → domain_add job finished:                                    ${stats(jobTimes)}`)
    console.log(`  baseline (server block + certbot --webroot + server block, nginx reloads, over SSH): ${stats(baselineTimes)}`)
    console.log(`  ratio of medians: ${(median(oursTimes) / median(baselineTimes)).toFixed(1)}x the baseline`)
  } finally {
    await cp.close()
    // Leave the node as Pressluft left it (matters only with PRESSLUFT_E2E_KEEP_LAB=1).
    if (baselineNames.length > 0) {
      await ssh(baselineNames.map((n) => `rm -f /etc/nginx/sites-enabled/pl-bench-${n}.conf && certbot delete --non-interactive --cert-name ${n} >/dev/null 2>&1`).join('; ') + '; nginx -s reload')
        .catch((error: Error) => console.error(`baseline cleanup: ${error.message}`))
    }
    if (typeof teardown === 'function') await teardown()
  }
}

main().then(() => process.exit(0), (error: Error) => { console.error(error); process.exit(1) })
