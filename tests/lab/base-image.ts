// The Debian 12 root filesystem every node overlays: built once with debootstrap and cached under .lab/_shared.
import { existsSync, mkdirSync, readdirSync, rmSync, renameSync, writeFileSync, unlinkSync } from 'node:fs'
import path from 'node:path'
import { execa } from 'execa'
import { aptProxyPort, sharedServicesIp } from './addresses.js'
import { withLock } from './lock.js'
import { debootstrapMirror, hostDebianSources, renderSourcesList } from './mirror.js'
import { sharedDir } from './paths.js'

// Bump when the recipe below changes so existing caches are rebuilt instead of silently reused.
const recipeVersion = 2
export const baseImageDir = path.join(sharedDir, `base-bookworm-v${recipeVersion}`)
const completeMarker = path.join(baseImageDir, '.lab-base-complete')

// Beyond the list: tini as the node's PID 1 (reaps orphans), iproute2 and procps so Ansible facts and `ps` work as on a cloud image.
const packages = ['openssh-server', 'python3', 'sudo', 'ca-certificates', 'tini', 'iproute2', 'procps']

function configure(root: string): void {
  const sources = hostDebianSources()
  writeFileSync(path.join(root, 'etc/apt/sources.list'), renderSourcesList(sources))
  writeFileSync(
    path.join(root, 'etc/apt/apt.conf.d/01pressluft-lab-proxy'),
    `// Nodes have no route to the mirror: every fetch goes through the lab's apt-cacher-ng.\nAcquire::http::Proxy "http://${sharedServicesIp}:${aptProxyPort}";\n`,
  )
  writeFileSync(
    path.join(root, 'etc/ssh/sshd_config.d/pressluft-lab.conf'),
    'PermitRootLogin prohibit-password\nPasswordAuthentication no\nKbdInteractiveAuthentication no\nUseDNS no\n',
  )
  // Without an init system invoke-rc.d blocks every start unless policy-rc.d allows it; a real server starts services on install.
  writeFileSync(path.join(root, 'usr/sbin/policy-rc.d'), '#!/bin/sh\nexit 0\n', { mode: 0o755 })
  // Host keys are generated per node at `up`; the image must not carry one shared set.
  for (const file of readdirSync(path.join(root, 'etc/ssh'))) {
    if (file.startsWith('ssh_host_')) unlinkSync(path.join(root, 'etc/ssh', file))
  }
  // debootstrap copies the host's resolver and hostname in; nodes get their own at `up`.
  for (const file of ['etc/resolv.conf', 'etc/hostname']) rmSync(path.join(root, file), { force: true })
  for (const dir of ['var/cache/apt/archives', 'var/lib/apt/lists']) {
    for (const entry of readdirSync(path.join(root, dir))) {
      if (entry.endsWith('.deb') || entry.includes('_dists_')) rmSync(path.join(root, dir, entry), { force: true })
    }
  }
}

export async function ensureBaseImage(log: (line: string) => void): Promise<string> {
  if (existsSync(completeMarker)) return baseImageDir
  return withLock(path.join(sharedDir, 'base-image.lock'), 'base image', async () => {
    if (existsSync(completeMarker)) return baseImageDir
    const building = `${baseImageDir}.building`
    rmSync(building, { recursive: true, force: true })
    rmSync(baseImageDir, { recursive: true, force: true })
    mkdirSync(building, { recursive: true })
    const mirror = debootstrapMirror()
    log(`building base image with debootstrap from ${mirror} (once; cached in ${baseImageDir})`)
    await execa('debootstrap', ['--variant=minbase', `--include=${packages.join(',')}`, 'bookworm', building, mirror], {
      env: { LANG: 'C.UTF-8' },
      all: true,
    }).catch((error) => {
      throw new Error(`debootstrap failed:\n${String(error.all ?? error.message).slice(-3000)}`)
    })
    configure(building)
    writeFileSync(path.join(building, path.basename(completeMarker)), `${new Date().toISOString()}\n`)
    renameSync(building, baseImageDir)
    return baseImageDir
  })
}
