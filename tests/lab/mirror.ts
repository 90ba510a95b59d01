// The Debian mirror this host's apt already uses, read from /etc/apt/sources.list(.d), for debootstrap and the nodes' sources.
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import path from 'node:path'

export interface DebianSource {
  uri: string
  suite: string
  components: string[]
}

const wantedSuites = ['bookworm', 'bookworm-updates', 'bookworm-security']

function parseOneLine(text: string): DebianSource[] {
  const sources: DebianSource[] = []
  for (const raw of text.split('\n')) {
    const line = raw.replace(/#.*/, '').replace(/\[[^\]]*\]/, ' ').trim()
    const [type, uri, suite, ...components] = line.split(/\s+/)
    if (type === 'deb' && uri && suite) sources.push({ uri, suite, components })
  }
  return sources
}

function parseDeb822(text: string): DebianSource[] {
  const sources: DebianSource[] = []
  for (const stanza of text.split(/\n\s*\n/)) {
    const fields = new Map<string, string>()
    for (const line of stanza.split('\n')) {
      const match = /^([A-Za-z-]+):\s*(.*)$/.exec(line.trim())
      if (match && !line.trim().startsWith('#')) fields.set(match[1].toLowerCase(), match[2])
    }
    if (!(fields.get('types') ?? '').split(/\s+/).includes('deb')) continue
    if ((fields.get('enabled') ?? 'yes') === 'no') continue
    const components = (fields.get('components') ?? '').split(/\s+/).filter(Boolean)
    for (const uri of (fields.get('uris') ?? '').split(/\s+/).filter(Boolean)) {
      for (const suite of (fields.get('suites') ?? '').split(/\s+/).filter(Boolean)) sources.push({ uri, suite, components })
    }
  }
  return sources
}

export function hostDebianSources(aptDir = '/etc/apt'): DebianSource[] {
  const files: string[] = []
  if (existsSync(path.join(aptDir, 'sources.list'))) files.push(path.join(aptDir, 'sources.list'))
  const listDir = path.join(aptDir, 'sources.list.d')
  if (existsSync(listDir)) files.push(...readdirSync(listDir).sort().map((f) => path.join(listDir, f)))
  const sources = files.flatMap((file) => {
    const text = readFileSync(file, 'utf8')
    if (file.endsWith('.sources')) return parseDeb822(text)
    if (file.endsWith('.list')) return parseOneLine(text)
    return []
  })
  const debian = sources.filter((s) => wantedSuites.includes(s.suite) && s.components.includes('main'))
  if (!debian.some((s) => s.suite === 'bookworm')) {
    throw new Error('no "bookworm main" apt source on this host; the lab uses the host\'s Debian mirror for debootstrap')
  }
  return debian.map((s) => ({ ...s, components: ['main'] }))
}

export function debootstrapMirror(sources = hostDebianSources()): string {
  return sources.find((s) => s.suite === 'bookworm')!.uri
}

// For the nodes, whose apt only has the HTTP proxy: an https mirror is asked for over http (Debian mirrors serve both,
// and apt checks the signatures either way).
export function renderSourcesList(sources = hostDebianSources()): string {
  return sources
    .map((s) => `deb ${s.uri.replace(/^https:\/\//, 'http://')} ${s.suite} ${s.components.join(' ')}`)
    .join('\n') + '\n'
}
