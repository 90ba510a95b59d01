// A WordPress update source inside the lab, served by the lab's HTTPS file server (tests/lab/git-server.ts):
// static answers for the update API paths the Pressluft helper asks (<base>/core/version-check/1.7/index.json,
// <base>/plugins/update-check/1.1/index.json, <base>/themes/update-check/1.1/index.json) and the packages they name.
// The core package is WordPress 6.8.x from Debian trixie's `wordpress` .deb, fetched through the lab apt proxy with the
// four packages its symlinks point into, dereferenced and zipped the way wordpress.org ships core (wordpress/…).
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { execa } from 'execa'
import { aptProxyUrl } from './apt-proxy.js'

const MIRROR = 'deb.debian.org/debian'
// wordpress and the trixie packages its symlinks point into (/usr/share/javascript/*, /usr/share/php/getid3).
const CORE_DEBS = ['wordpress', 'libjs-cropper', 'libjs-lodash', 'libjs-underscore', 'php-getid3']

export interface UpdateSource {
  /** Base URL the control plane passes as PRESSLUFT_WP_UPDATE_SOURCE. */
  base: string
  dir: string
}

/** The update source under the lab's file server: <git.dir>/files/wp-updates ↔ <git.url>files/wp-updates. */
export function updateSource(git: { url: string; dir: string }): UpdateSource {
  return { base: `${git.url}files/wp-updates`, dir: path.join(git.dir, 'files', 'wp-updates') }
}

function writeAnswer(source: UpdateSource, apiPath: string, body: unknown): void {
  const dir = path.join(source.dir, apiPath)
  mkdirSync(dir, { recursive: true })
  writeFileSync(path.join(dir, 'index.json'), JSON.stringify(body))
}

/**
 * Builds (once, cached under cacheDir) wordpress-<version>.zip from Debian trixie and returns its version.
 * Everything comes through the lab's apt proxy.
 */
export async function buildCorePackage(source: UpdateSource, cacheDir: string): Promise<string> {
  mkdirSync(cacheDir, { recursive: true })
  const done = path.join(cacheDir, 'version')
  if (!existsSync(done)) {
    const index = path.join(cacheDir, 'Packages.xz')
    await execa('curl', ['-sSf', '-o', index, `${aptProxyUrl}/${MIRROR}/dists/trixie/main/binary-all/Packages.xz`])
    const packages = (await execa('xz', ['-dc', index])).stdout.split('\n\n')
    const root = path.join(cacheDir, 'root')
    rmSync(root, { recursive: true, force: true })
    mkdirSync(root)
    let version = ''
    for (const name of CORE_DEBS) {
      const stanza = packages.find((p) => p.startsWith(`Package: ${name}\n`))
      const filename = stanza && /^Filename: (.+)$/m.exec(stanza)?.[1]
      if (!filename) throw new Error(`trixie has no package ${name}`)
      if (name === 'wordpress') version = /^Version: (\d+\.\d+(?:\.\d+)?)/m.exec(stanza!)![1]
      const deb = path.join(cacheDir, path.basename(filename))
      await execa('curl', ['-sSf', '-o', deb, `${aptProxyUrl}/${MIRROR}/${filename}`])
      await execa('dpkg-deb', ['-x', deb, root])
    }
    const stage = path.join(cacheDir, 'stage')
    rmSync(stage, { recursive: true, force: true })
    mkdirSync(stage)
    // wp-config.php (a shim to /etc/wordpress) and .htaccess are Debian's, not core's; cp -L then resolves Debian's
    // relative links into the other packages (and the CA bundle link to this host's /etc/ssl/certs).
    rmSync(`${root}/usr/share/wordpress/wp-config.php`, { force: true })
    rmSync(`${root}/usr/share/wordpress/.htaccess`, { force: true })
    await execa('cp', ['-rL', `${root}/usr/share/wordpress`, `${stage}/wordpress`])
    await execa('zip', ['-qr', path.join(cacheDir, `wordpress-${version}.zip`), 'wordpress'], { cwd: stage })
    writeFileSync(done, version)
  }
  const version = readFileSync(done, 'utf8').trim()
  mkdirSync(path.join(source.dir, 'packages'), { recursive: true })
  await execa('cp', [path.join(cacheDir, `wordpress-${version}.zip`), path.join(source.dir, 'packages', `wordpress-${version}.zip`)])
  return version
}

/** Answers version-check 1.7 with one "upgrade" offer of the given core package (or none). */
export function offerCore(source: UpdateSource, version: string | null): void {
  const url = `${source.base}/packages/wordpress-${version}.zip`
  writeAnswer(source, 'core/version-check/1.7', {
    offers: version === null ? [] : [{
      response: 'upgrade', download: url, locale: 'en_US',
      packages: { full: url, no_content: false, new_bundled: false, partial: false, rollback: false },
      current: version, version, php_version: '7.2.24', mysql_version: '5.5.5', new_bundled: '6.7', partial_version: false,
    }],
    translations: [],
  })
}

/** A plugin zip (<slug>/<slug>.php with a Version header and optional PHP body) placed under packages/. */
export async function buildPlugin(source: UpdateSource, slug: string, version: string, body = ''): Promise<string> {
  const work = path.join(source.dir, 'build', `${slug}-${version}`)
  rmSync(work, { recursive: true, force: true })
  mkdirSync(path.join(work, slug), { recursive: true })
  writeFileSync(path.join(work, slug, `${slug}.php`), `<?php\n/*\n * Plugin Name: ${slug}\n * Version: ${version}\n */\n${body}\n`)
  const zip = path.join(source.dir, 'packages', `${slug}-${version}.zip`)
  mkdirSync(path.dirname(zip), { recursive: true })
  rmSync(zip, { force: true })
  await execa('zip', ['-qr', zip, slug], { cwd: work })
  return `${source.base}/packages/${slug}-${version}.zip`
}

/** Answers plugins/update-check 1.1 with updates for the given plugins ({} = nothing to update). */
export function offerPlugins(source: UpdateSource, offers: Record<string, { version: string; package: string }>): void {
  writeAnswer(source, 'plugins/update-check/1.1', {
    plugins: Object.fromEntries(Object.entries(offers).map(([slug, o]) => [`${slug}/${slug}.php`, {
      id: `w.org/plugins/${slug}`, slug, plugin: `${slug}/${slug}.php`, new_version: o.version, url: '', package: o.package,
    }])),
    translations: [],
    no_update: {},
  })
  writeAnswer(source, 'themes/update-check/1.1', { themes: {}, translations: [], no_update: {} })
}
