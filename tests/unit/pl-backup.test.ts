// The backup helper's read-back (ansible/roles/wp-backup/files/pl-backup.py), run here with the local python3, no
// network: the HEAD request it signs must pass the lab S3 server's Signature V4 check (tests/lab/s3-sigv4.ts), and the
// ETags it accepts must be the MD5 of the bytes written, single-part or in the multipart form md5(part MD5s)-N.
import { createHash, randomBytes } from 'node:crypto'
import { execFileSync } from 'node:child_process'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { verifySigV4 } from '../lab/s3-sigv4.js'

const TOOL = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../ansible/roles/wp-backup/files/pl-backup.py')
const DRIVER = `
import base64, datetime, importlib.util, json, sys
spec = importlib.util.spec_from_file_location("pl_backup", sys.argv[1])
m = importlib.util.module_from_spec(spec); spec.loader.exec_module(m)
q = json.load(sys.stdin)
if q["op"] == "sign":
    storage = m.Storage(q["settings"], q["remote"])
    now = datetime.datetime.fromtimestamp(q["at"], datetime.timezone.utc)
    scheme, host, path, headers = storage.signed_head(q["name"], now)
    print(json.dumps({"scheme": scheme, "host": host, "path": path, "headers": headers}))
else:
    sums = m.Sums()
    for block in q["blocks"]:
        sums.update(base64.b64decode(block))
    print(json.dumps({"part": m.PART, "etags": sorted(sums.etags()), "size": sums.size, "sha256": sums.sha.hexdigest()}))
`

function py<T>(query: unknown): T {
  // -B: no __pycache__ next to the role's file.
  return JSON.parse(execFileSync('python3', ['-B', '-c', DRIVER, TOOL], { input: JSON.stringify(query), encoding: 'utf8', maxBuffer: 64 << 20 })) as T
}

interface Signed { scheme: string; host: string; path: string; headers: Record<string, string> }

const KEY = 'PLTESTKEY0123456789'
const SECRET = 'pl-test-secret/with+chars='
const at = Math.floor(Date.now() / 1000)

function sign(settings: Record<string, string>, name: string): Signed {
  return py<Signed>({ op: 'sign', settings: { access_key_id: KEY, secret_access_key: SECRET, ...settings }, remote: 's3://pressluft-lab/pressluft/0b1c/2d3e/4f50/', name, at })
}

describe('pl-backup.py read-back', () => {
  it('signs the HEAD of an object so that a Signature V4 check with the right secret accepts it, and refuses it with another secret', () => {
    const signed = sign({ endpoint: 'http://198.18.1.1:9000', region: 'us-east-1' }, 'db.sql.gz')
    expect(signed).toMatchObject({ scheme: 'http', host: '198.18.1.1:9000', path: '/pressluft-lab/pressluft/0b1c/2d3e/4f50/db.sql.gz' })
    const request = { method: 'HEAD', url: signed.path, headers: signed.headers }
    expect(verifySigV4(request, (id) => (id === KEY ? SECRET : undefined), at * 1000)).toEqual({ ok: true, accessKeyId: KEY })
    expect(verifySigV4(request, () => `${SECRET}x`, at * 1000)).toMatchObject({ ok: false, status: 403, code: 'SignatureDoesNotMatch' })
    // Without an endpoint: AWS, virtual-hosted style in the configured region.
    const aws = sign({ endpoint: '', region: 'eu-central-1' }, 'manifest.json')
    expect(aws).toMatchObject({ scheme: 'https', host: 'pressluft-lab.s3.eu-central-1.amazonaws.com', path: '/pressluft/0b1c/2d3e/4f50/manifest.json' })
    expect(verifySigV4({ method: 'HEAD', url: aws.path, headers: aws.headers }, () => SECRET, at * 1000)).toEqual({ ok: true, accessKeyId: KEY })
  })

  it('accepts as ETag exactly the MD5 of the bytes and the multipart form md5(part MD5s)-N, around the part size', () => {
    const { part } = py<{ part: number }>({ op: 'sums', blocks: [] })
    for (const size of [0, 1000, part - 1, part, part + 1, 2 * part + 12345]) {
      const data = randomBytes(size)
      // Fed in uneven pieces, as pipe reads return them.
      const blocks: string[] = []
      for (let i = 0, n = 1; i < size; i += n, n = (n * 7919) % 3_000_000 + 1) blocks.push(data.subarray(i, i + n).toString('base64'))
      const md5 = (b: Buffer) => createHash('md5').update(b).digest()
      const parts: Buffer[] = []
      for (let i = 0; i < size; i += part) parts.push(md5(data.subarray(i, i + part)))
      if (parts.length === 0) parts.push(md5(Buffer.alloc(0)))
      const expected = [md5(data).toString('hex'), `${createHash('md5').update(Buffer.concat(parts)).digest('hex')}-${parts.length}`].sort()
      const got = py<{ etags: string[]; size: number; sha256: string }>({ op: 'sums', blocks })
      expect(got, `size ${size}`).toEqual({ part, etags: expected, size, sha256: createHash('sha256').update(data).digest('hex') })
    }
  })
})
