// The lab's own SSH key pair (generated on first use) and the known_hosts file listing every node's host keys.
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { execa } from 'execa'

export async function ensureKeyPair(privateKeyPath: string, comment: string): Promise<string> {
  if (!existsSync(privateKeyPath)) {
    mkdirSync(path.dirname(privateKeyPath), { recursive: true, mode: 0o700 })
    await execa('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', comment, '-f', privateKeyPath])
  }
  return readFileSync(`${privateKeyPath}.pub`, 'utf8').trim()
}

// Writes fresh host keys into <root>/etc/ssh, as a real server gets on first boot.
export async function generateHostKeys(root: string): Promise<void> {
  mkdirSync(path.join(root, 'etc/ssh'), { recursive: true })
  await execa('ssh-keygen', ['-A', '-f', root])
}

export function knownHostsLines(root: string, names: string[]): string[] {
  const dir = path.join(root, 'etc/ssh')
  return readdirSync(dir)
    .filter((file) => /^ssh_host_.*_key\.pub$/.test(file))
    .map((file) => {
      const [type, key] = readFileSync(path.join(dir, file), 'utf8').trim().split(/\s+/)
      return `${names.join(',')} ${type} ${key}`
    })
}

export function writeKnownHosts(file: string, lines: string[]): void {
  writeFileSync(file, lines.join('\n') + '\n')
}
