// Issue 12 point 5 on a lab node: `npm run release` → install.sh → the unit's ExecStart as its user → login over HTTP →
// upgrade in place with a newer tarball, data kept. Uses the run's node1 (already provisioned: nginx owns 80/443, so
// this control plane listens on PORT, opened in the node's firewall for the test and closed again).
// Lab nodes reach only the apt proxy, so the tarball is built here and copied in with this machine's Node.js binary
// (install.sh --node: no download; the download path is tests/unit/node-dist.test.ts). Lab nodes have no systemd: the
// unit file is checked with `systemd-analyze verify` here, and its ExecStart is started the way systemd would (user,
// working directory, Environment=, EnvironmentFile=, UMask=, NoNewPrivileges=).
import crypto from 'node:crypto'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { describe, it, expect, beforeAll, afterAll } from 'vitest'
import { execa } from 'execa'
import { openE2e, type E2e } from '../support/e2e.js'
import { labExec, labFiles } from '../lab/lab.js'
import { rememberSecret } from '../support/log-audit.js'

const PORT = 18080
const V1 = '0.1.0-e2e.1'
const V2 = '0.1.0-e2e.2'
const WORK = '/root/pressluft-installer-test'
const FIREWALL_COMMENT = 'pressluft-installer-test'

let e2e: E2e
let work: string
let tarballs: Record<string, string>
const timings: Record<string, number> = {}
const password = crypto.randomBytes(18).toString('base64url')
rememberSecret(password)

async function timed<T>(label: string, fn: () => Promise<T>): Promise<T> {
  const started = Date.now()
  try { return await fn() } finally { timings[label] = (Date.now() - started) / 1000 }
}

const sh = (script: string, reject = true) => labExec(e2e.node.name, ['sh', '-c', script], { instance: e2e.instance, reject })

/** Copies host files into the node over SSH with the lab key (labExec's stdin takes text only). */
async function copyIn(files: string[], dest: string): Promise<void> {
  const { knownHosts } = labFiles({ instance: e2e.instance })
  await execa('scp', ['-q', '-P', String(e2e.node.ssh_port), '-i', e2e.node.ssh_key, '-o', `UserKnownHostsFile=${knownHosts}`, '-o', 'StrictHostKeyChecking=yes', '-o', 'BatchMode=yes',
    ...files, `${e2e.node.ssh_user}@${e2e.node.ip}:${dest}/`])
}

/** The [Service] section of a unit as key → values (a key may repeat). */
function serviceSection(unit: string): Map<string, string[]> {
  const out = new Map<string, string[]>()
  let inService = false
  for (const raw of unit.split('\n')) {
    const line = raw.trim()
    if (!line || line.startsWith('#')) continue
    if (line.startsWith('[')) { inService = line === '[Service]'; continue }
    if (!inService) continue
    const eq = line.indexOf('=')
    out.set(line.slice(0, eq), [...(out.get(line.slice(0, eq)) ?? []), line.slice(eq + 1)])
  }
  return out
}

/** KEY=value lines of an environment file or an Environment= value (no quoting is used in ours). */
const assignments = (text: string) => text.split(/\s+|\n/).map((s) => s.trim()).filter((s) => /^[A-Za-z_][A-Za-z0-9_]*=/.test(s))

/**
 * Starts the unit's ExecStart as systemd would: as User= with its groups, in WorkingDirectory=, with UMask= and
 * NoNewPrivileges=, environment = Environment= then EnvironmentFile= (the file wins). Returns the server's PID.
 */
async function startAsUnit(logName: string): Promise<number> {
  const unit = serviceSection((await sh('cat /etc/systemd/system/pressluft.service')).stdout)
  const one = (key: string) => { const v = unit.get(key); if (!v || v.length !== 1) throw new Error(`unit has no single ${key}=`); return v[0] }
  const envFile = (await sh(`cat ${one('EnvironmentFile')}`)).stdout
  const env = [...unit.get('Environment')!.flatMap(assignments), ...envFile.split('\n').filter((l) => !l.trim().startsWith('#')).flatMap(assignments)]
  expect(one('NoNewPrivileges')).toBe('yes')
  const argv = ['setpriv', '--no-new-privs', `--reuid=${one('User')}`, `--regid=${one('Group')}`, '--init-groups', '--',
    'env', '-i', ...env, ...one('ExecStart').split(/\s+/)]
  const quoted = argv.map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ')
  const { stdout } = await sh(`cd ${one('WorkingDirectory')} && umask ${one('UMask')} && ${quoted} </dev/null >${WORK}/${logName} 2>&1 & echo $!`)
  return Number(stdout.trim())
}

async function waitForHttp(url: string, pid: number, logName: string): Promise<void> {
  const deadline = Date.now() + 60_000
  for (;;) {
    if (await fetch(url).then((r) => r.ok, () => false)) return
    const alive = (await sh(`kill -0 ${pid}`, false)).exitCode === 0
    if (!alive || Date.now() > deadline) throw new Error(`control plane on the node did not answer (${alive ? 'timeout' : 'exited'}): ${(await sh(`cat ${WORK}/${logName}`, false)).stdout}`)
    await new Promise((r) => setTimeout(r, 250))
  }
}

async function stop(pid: number): Promise<void> {
  await sh(`kill ${pid} 2>/dev/null; for i in $(seq 100); do kill -0 ${pid} 2>/dev/null || exit 0; sleep 0.1; done; kill -9 ${pid}`, false)
}

async function login(base: string): Promise<string> {
  const res = await fetch(`${base}/api/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email: 'admin@pressluft.local', password }) })
  expect(res.status).toBe(200)
  const cookie = res.headers.get('set-cookie')!.split(';')[0]
  rememberSecret(cookie.split('=')[1])
  return cookie
}

async function install(version: string, args: string[]): Promise<string> {
  const dir = `${WORK}/unpacked-${version}`
  const result = await sh(`rm -rf ${dir} && mkdir -p ${dir} && tar -xzf ${WORK}/${path.basename(tarballs[version])} -C ${dir} && ${dir}/pressluft-${version}/install.sh ${args.join(' ')} 2>&1`, false)
  if (result.exitCode !== 0) throw new Error(`install.sh ${version} failed (${result.exitCode}):\n${result.stdout}\n${result.stderr}`)
  return result.stdout
}

describe('installer on a lab node', () => {
  let base: string
  let pid: number | undefined

  beforeAll(async () => {
    e2e = await openE2e()
    base = `http://${e2e.node.ip}:${PORT}`
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'pressluft-installer-'))
    // The real build once; the "newer" release is the same build stamped with the next version.
    tarballs = {}
    await timed('npm run release', () => execa('npm', ['run', '-s', 'release', '--', '--out', work], { env: { PRESSLUFT_RELEASE_VERSION: V1 } }))
    tarballs[V1] = path.join(work, `pressluft-${V1}-linux-x64.tar.gz`)
    await timed('restamp as newer version', async () => {
      const tree = path.join(work, 'restamp')
      fs.mkdirSync(tree)
      await execa('tar', ['-xzf', tarballs[V1], '-C', tree])
      fs.renameSync(path.join(tree, `pressluft-${V1}`), path.join(tree, `pressluft-${V2}`))
      fs.writeFileSync(path.join(tree, `pressluft-${V2}`, 'VERSION'), `${V2}\n`)
      tarballs[V2] = path.join(work, `pressluft-${V2}-linux-x64.tar.gz`)
      await execa('tar', ['-C', tree, '--owner=0', '--group=0', '-I', 'gzip -1', '-cf', tarballs[V2], `pressluft-${V2}`])
    })
    await timed('copy into node', async () => {
      await sh(`rm -rf ${WORK} && mkdir -p ${WORK}`)
      const nodeCopy = path.join(work, 'node')
      fs.copyFileSync(process.execPath, nodeCopy)
      await copyIn([tarballs[V1], tarballs[V2], nodeCopy], WORK)
    })
    await sh(`nft add rule inet pressluft input tcp dport ${PORT} accept comment '"${FIREWALL_COMMENT}"'`)
  })

  afterAll(async () => {
    if (pid) await stop(pid)
    if (e2e) {
      const rules = (await sh('nft -a list chain inet pressluft input', false)).stdout
      for (const match of rules.matchAll(new RegExp(`comment "${FIREWALL_COMMENT}" # handle (\\d+)`, 'g'))) await sh(`nft delete rule inet pressluft input handle ${match[1]}`, false)
      // Only what the installer added: /var/lib/pressluft, /etc/pressluft and the user belong to the node's own layout.
      await sh(`rm -rf ${WORK} /opt/pressluft /etc/pressluft/pressluft.env /var/lib/pressluft/control-plane /etc/systemd/system/pressluft.service`, false)
      await e2e.close()
    }
    if (work) fs.rmSync(work, { recursive: true, force: true })
    console.log(`installer e2e timings (s): ${JSON.stringify(timings)}`)
  })

  it('install.sh sets up user, private directories, release, node and a unit that systemd-analyze verify accepts; ExecStart as the unit user serves a login over HTTP', async () => {
    // The node's own Pressluft state (node-provision) that the installer must leave as it is.
    const nodeState = 'stat -c "%a %U:%G" /var/lib/pressluft && ls -A /var/lib/pressluft | grep -vx control-plane; ls -A /etc/pressluft | grep -vx pressluft.env; true'
    const nodeStateBefore = (await sh(nodeState)).stdout
    const output = await timed('install.sh v1', () => install(V1, ['--node', `${WORK}/node`]))
    expect(output).toContain(`Node.js ${process.versions.node} from ${WORK}/node`)
    // node1 is a provisioned node: node-provision already created the same `pressluft` identity (ansible/roles/node-stack).
    expect(output).toMatch(/created system user pressluft|system user pressluft exists/)
    expect(output).toContain('wrote /etc/pressluft/pressluft.env')
    expect(output).toContain(`current -> releases/${V1}`)
    expect(output).toContain('systemd is not running here: the unit is installed but not started')

    const facts = (await sh([
      'stat -c "%a %U:%G %n" /var/lib/pressluft/control-plane /etc/pressluft/pressluft.env',
      'readlink /opt/pressluft/current', '/opt/pressluft/bin/node --version', 'getent passwd pressluft | cut -d: -f6,7',
      "dpkg-query -W -f='${Package} ${Status}\\n' ansible openssh-client",
    ].join(' && '))).stdout.split('\n')
    expect(facts).toEqual([
      '700 pressluft:pressluft /var/lib/pressluft/control-plane', '600 root:root /etc/pressluft/pressluft.env', `releases/${V1}`, `v${process.versions.node}`,
      '/var/lib/pressluft:/usr/sbin/nologin', 'ansible install ok installed', 'openssh-client install ok installed',
    ])

    expect((await sh(nodeState)).stdout).toBe(nodeStateBefore)

    // The unit as installed, checked by systemd's own parser on this machine (lab nodes have no systemd).
    const unitText = (await sh('cat /etc/systemd/system/pressluft.service')).stdout
    const unit = serviceSection(unitText)
    expect(Object.fromEntries(['User', 'ExecStart', 'Restart', 'NoNewPrivileges', 'ProtectSystem', 'ReadWritePaths', 'PrivateTmp', 'UMask', 'EnvironmentFile']
      .map((k) => [k, unit.get(k)?.join(' ')]))).toEqual({
      User: 'pressluft', ExecStart: '/opt/pressluft/bin/node /opt/pressluft/current/dist/runtime/main.js', Restart: 'on-failure', NoNewPrivileges: 'yes',
      ProtectSystem: 'strict', ReadWritePaths: '/var/lib/pressluft/control-plane', PrivateTmp: 'yes', UMask: '0077', EnvironmentFile: '/etc/pressluft/pressluft.env',
    })
    await timed('systemd-analyze verify', async () => {
      // A root with the unit, the host's stock units (sysinit.target …) and a stand-in for the node binary it runs.
      const root = path.join(work, 'verify-root')
      fs.mkdirSync(path.join(root, 'etc/systemd/system'), { recursive: true })
      fs.mkdirSync(path.join(root, 'opt/pressluft/bin'), { recursive: true })
      fs.mkdirSync(path.join(root, 'usr/lib/systemd'), { recursive: true })
      fs.cpSync('/usr/lib/systemd/system', path.join(root, 'usr/lib/systemd/system'), { recursive: true, verbatimSymlinks: true })
      fs.writeFileSync(path.join(root, 'opt/pressluft/bin/node'), '#!/bin/sh\n', { mode: 0o755 })
      const verify = (text: string) => {
        fs.writeFileSync(path.join(root, 'etc/systemd/system/pressluft.service'), text)
        return execa('systemd-analyze', ['verify', `--root=${root}`, 'pressluft.service'], { reject: false, all: true })
      }
      const result = await verify(unitText)
      expect(result.exitCode).toBe(0)
      // verify exits 0 on settings it ignores; any message is a finding.
      expect(result.all).toBe('')
      // The same check notices a broken setting.
      expect((await verify(unitText.replace('ProtectSystem=strict', 'ProtectSystem=stric'))).all).toContain('protect system value')
    })

    // The job runner's call from the installed tree, as the service user with its HOME: ansible finds ansible.cfg, the roles
    // and the collections the playbooks use (node-provision.yml includes every role of a node).
    const syntax = await timed('ansible-playbook --syntax-check as pressluft', () => sh('cd /opt/pressluft/current && setpriv --reuid=pressluft --regid=pressluft --init-groups -- '
      + 'env -i HOME=/var/lib/pressluft/control-plane PATH=/usr/bin:/bin ANSIBLE_CONFIG=/opt/pressluft/current/ansible/ansible.cfg '
      + 'ansible-playbook --syntax-check -i localhost, ansible/playbooks/node-provision.yml 2>&1', false))
    expect(syntax.exitCode, syntax.stdout).toBe(0)

    // The operator's settings: a reachable address (a different port from the node's nginx) and the admin password.
    await sh(`sed -i -e 's/^PRESSLUFT_LISTEN_ADDR=.*/PRESSLUFT_LISTEN_ADDR=${e2e.node.ip}:${PORT}/' -e 's/^#PRESSLUFT_ADMIN_PASSWORD=.*/PRESSLUFT_ADMIN_PASSWORD=${password}/' /etc/pressluft/pressluft.env`)
    pid = await timed('start v1', async () => { const p = await startAsUnit('v1.log'); await waitForHttp(`${base}/api/openapi.json`, p, 'v1.log'); return p })
    expect((await sh(`ps -o user= -p ${pid}`)).stdout.trim()).toBe('pressluft')
    const cookie = await login(base)
    expect((await fetch(`${base}/docs`)).status).toBe(200)
    const patched = await fetch(`${base}/_admin/settings`, {
      method: 'PATCH', headers: { cookie, 'content-type': 'application/json' }, body: JSON.stringify({ backup_retention_days: 17, hetzner_api_token: 'installer-e2e-token' }),
    })
    expect(patched.status).toBe(200)
    // Private data directory under the unit's umask: the database and the secrets belong to pressluft, 0600/0700.
    const modes = (await sh('cd /var/lib/pressluft/control-plane && stat -c "%a %U %n" . pressluft.db pressluft.db-wal pressluft.db-shm secrets secrets/master.key')).stdout.split('\n')
    expect(modes).toEqual(['700 pressluft .', '600 pressluft pressluft.db', '600 pressluft pressluft.db-wal', '600 pressluft pressluft.db-shm', '700 pressluft secrets', '600 pressluft secrets/master.key'])
  })

  it('a newer tarball upgrades in place: current switches to it, settings file and data are kept, the old release stays for a rollback', async () => {
    expect(pid).toBeDefined()
    const before = await (await fetch(`${base}/_admin/settings`, { headers: { cookie: await login(base) } })).json() as Record<string, unknown>
    await stop(pid!)
    pid = undefined

    const output = await timed('install.sh v2', () => install(V2, []))
    expect(output).toContain(`Node.js v${process.versions.node} kept`)
    expect(output).toContain('kept /etc/pressluft/pressluft.env')
    expect(output).toContain(`current -> releases/${V2} (was releases/${V1})`)
    expect(output).not.toContain('created system user')
    expect((await sh('readlink /opt/pressluft/current; ls /opt/pressluft/releases; grep -c "^PRESSLUFT_LISTEN_ADDR=.*:' + PORT + '$" /etc/pressluft/pressluft.env')).stdout.split('\n'))
      .toEqual([`releases/${V2}`, V1, V2, '1'])

    pid = await timed('start v2', async () => { const p = await startAsUnit('v2.log'); await waitForHttp(`${base}/api/openapi.json`, p, 'v2.log'); return p })
    const cookie = await login(base)
    const after = await (await fetch(`${base}/_admin/settings`, { headers: { cookie } })).json() as Record<string, unknown>
    expect(after).toMatchObject({ backup_retention_days: 17, hetzner_api_token: { set: true } })
    // Same secrets store: the SSH key the nodes trust did not change.
    expect(after.ssh_public_key).toBe(before.ssh_public_key)
    const log = (await sh(`cat ${WORK}/v2.log`)).stdout
    expect(log).toContain('control plane listening')
    expect(log).not.toContain('created the admin user')
    expect(log).not.toContain('Generated password')
  })
})
