// The node's download guard (ansible/roles/pressluft-helper/files/pl-fetch.py): which resolved address it refuses,
// with and without the operator's allow-list (setting import_allowed_sources), run here with the local python3.
// No network: only the address rules are evaluated.
import { execFileSync } from 'node:child_process'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'

const FETCH = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../ansible/roles/pressluft-helper/files/pl-fetch.py')
const DRIVER = `
import importlib.util, ipaddress, json, sys
spec = importlib.util.spec_from_file_location("pl_fetch", sys.argv[1])
m = importlib.util.module_from_spec(spec); spec.loader.exec_module(m)
q = json.load(sys.stdin)
own = {ipaddress.ip_address(a) for a in q["own"]}
allow = m.parse_allow(q["allow"])
print(json.dumps([m.refusal(a, own, h, allow) for a, h in q["cases"]]))
`

function refusals(cases: [string, string][], allow = '', own: string[] = ['198.18.0.11']): (string | null)[] {
  return JSON.parse(execFileSync('python3', ['-c', DRIVER, FETCH], { input: JSON.stringify({ cases, allow, own }), encoding: 'utf8' })) as (string | null)[]
}

describe('pl-fetch.py address rules', () => {
  it('refuses internal and reserved addresses (198.18.0.0/15 included) without an allow-list and lets public ones through', () => {
    const cases: [string, string][] = [['127.0.0.1', ''], ['10.1.2.3', ''], ['172.16.5.4', ''], ['192.168.1.1', ''], ['169.254.169.254', ''],
      ['100.64.0.1', ''], ['198.18.0.1', ''], ['203.0.113.9', ''], ['::1', ''], ['fd00::1', ''], ['fe80::1', ''], ['::ffff:10.0.0.1', ''],
      ['64:ff9b::7f00:1', ''], ['198.18.0.11', ''], ['93.184.216.34', ''], ['2a00:1450:4001:80b::200e', '']]
    const result = refusals(cases)
    expect(result.slice(0, 14).map((r, i) => [cases[i][0], r === null])).toEqual(cases.slice(0, 14).map(([a]) => [a, false]))
    expect(result.slice(14)).toEqual([null, null])
    expect(result[6]).toBe('198.18.0.1 is in the refused range 198.18.0.0/15 (not in import_allowed_sources)')
    expect(result[13]).toBe('198.18.0.11 is an address of this server')
  })

  it('allows the listed addresses, ranges and host names, and nothing else of those ranges', () => {
    const allow = '198.18.0.1, 10.20.0.0/16, fd12:3456::/32, archives.lab.test'
    expect(refusals([['198.18.0.1', ''], ['10.20.7.7', 'x.example'], ['fd12:3456::9', ''], ['::ffff:10.20.0.1', ''], ['198.18.5.5', 'archives.lab.test']], allow))
      .toEqual([null, null, null, null, null])
    expect(refusals([['198.18.0.2', ''], ['10.21.0.1', ''], ['198.18.5.5', 'other.lab.test']], allow)).toEqual([
      '198.18.0.2 is in the refused range 198.18.0.0/15 (not in import_allowed_sources)',
      '10.21.0.1 is in the refused range 10.0.0.0/8 (not in import_allowed_sources)',
      '198.18.5.5 is in the refused range 198.18.0.0/15 (not in import_allowed_sources)',
    ])
  })

  it('keeps loopback, link-local, metadata and the node\'s own addresses refused even when the allow-list covers them', () => {
    const allow = '0.0.0.0/1, 128.0.0.0/1, ::/1, 8000::/1, 198.18.0.11, metadata.lab.test'
    const result = refusals([['127.0.0.1', ''], ['169.254.169.254', 'metadata.lab.test'], ['100.100.100.200', ''], ['fd00:ec2::254', ''], ['::1', ''],
      ['fe80::1', ''], ['0.0.0.0', ''], ['198.18.0.11', ''], ['::ffff:127.0.0.1', '']], allow)
    expect(result.map((r) => r !== null && /always refused range|address of this server/.test(r))).toEqual(result.map(() => true))
    expect(refusals([['10.0.0.1', '']], allow)).toEqual([null])
  })

  it('--check-only judges a URL without downloading: the address a git clone is then pinned to, or the refusal', () => {
    const check = (...args: string[]) => {
      try {
        return JSON.parse(execFileSync('python3', [FETCH, '--check-only', ...args], { encoding: 'utf8' })) as Record<string, unknown>
      } catch (error) {
        return { exit: (error as { status: number }).status, ...JSON.parse((error as { stdout: string }).stdout) as Record<string, unknown> }
      }
    }
    // IP literals need no DNS; 198.19.255.7 is in the refused benchmarking range and not an address of this machine.
    expect(check('--url', 'https://198.19.255.7/repo.git')).toEqual({
      exit: 1, ok: false, error: 'refusing 198.19.255.7: 198.19.255.7 is in the refused range 198.18.0.0/15 (not in import_allowed_sources)' })
    expect(check('--url', 'https://198.19.255.7:8443/repo.git', '--allow', '198.19.255.0/24')).toEqual({ ok: true, host: '198.19.255.7', port: 8443, address: '198.19.255.7' })
    expect(check('--url', 'https://127.0.0.1/repo.git', '--allow', '0.0.0.0/1')).toMatchObject({ exit: 1, ok: false })
    expect(check('--url', 'https://user:secret@198.19.255.7/repo.git', '--allow', '198.19.255.0/24')).toEqual({ exit: 1, ok: false, error: 'URLs with credentials are not allowed' })
  })
})
