// The helper's serialized-safe URL rewrite (ansible/roles/pressluft-helper/files/pl-replace.php, used by pl-wp.php
// search-replace in imports, promotions and restores), run with this host's php (php-cli, installed by .ci/run).
import { execFileSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, describe, expect, it } from 'vitest'

const HELPER = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../ansible/roles/pressluft-helper/files/pl-replace.php')
const FROM = 'http://old.host'
const TO = 'https://new.example.org'
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'pl-replace-'))
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }))

// A class with magic methods that would act if the rewrite ever instantiated an object of it (a POP gadget): each
// method appends to a marker file.
const DRIVER = `
class PlTestGadget {
  public $url;
  public function __wakeup() { file_put_contents(getenv('PL_MARKER'), "wakeup\\n", FILE_APPEND); }
  public function __destruct() { file_put_contents(getenv('PL_MARKER'), "destruct\\n", FILE_APPEND); }
}
require getenv('PL_HELPER');
$in = json_decode(stream_get_contents(STDIN), true);
$replacer = new PlReplacer(pl_replace_pairs($in['from'], $in['to']));
$out = [];
foreach ($in['values'] as $value) {
  $new = $replacer->value($value);
  $trimmed = trim($new);
  $parses = $trimmed === 'b:0;' || @unserialize($trimmed, ['allowed_classes' => false]) !== false;
  $out[] = ['value' => $new, 'parses' => $parses];
}
echo json_encode(['out' => $out, 'unparsable' => $replacer->unparsable, 'pairs' => pl_replace_pairs($in['from'], $in['to'])]);
`

interface Rewritten { out: { value: string; parses: boolean }[]; unparsable: number; pairs: Record<string, string> }

function rewrite(values: string[], from = FROM, to = TO): Rewritten & { marker: string } {
  const marker = path.join(tmp, `marker-${Math.random().toString(36).slice(2)}`)
  const stdout = execFileSync('php', ['-d', 'display_errors=stderr', '-r', DRIVER], {
    input: JSON.stringify({ from, to, values }), encoding: 'utf8', env: { ...process.env, PL_HELPER: HELPER, PL_MARKER: marker },
  })
  return { ...(JSON.parse(stdout) as Rewritten), marker: fs.existsSync(marker) ? fs.readFileSync(marker, 'utf8') : '' }
}

// PHP's serialize() written out independently, so expected values are not produced by the code under test.
type PhpValue = string | number | boolean | null | { float: number } | { class: string; props: Record<string, PhpValue> } | PhpValue[] | { [key: string]: PhpValue }
function ser(value: PhpValue): string {
  if (value === null) return 'N;'
  if (typeof value === 'string') return `s:${Buffer.byteLength(value)}:"${value}";`
  if (typeof value === 'number') return `i:${value};`
  if (typeof value === 'boolean') return `b:${value ? 1 : 0};`
  const key = (k: string) => (/^(0|-?[1-9]\d*)$/.test(k) ? `i:${k};` : ser(k))
  if (!Array.isArray(value) && 'float' in value && typeof value.float === 'number') return `d:${value.float};`
  if (!Array.isArray(value) && 'class' in value && typeof value.class === 'string') {
    const props = Object.entries(value.props as Record<string, PhpValue>)
    return `O:${Buffer.byteLength(value.class)}:"${value.class}":${props.length}:{${props.map(([k, v]) => ser(k) + ser(v)).join('')}}`
  }
  const entries = Object.entries(value as Record<string, PhpValue>)
  return `a:${entries.length}:{${entries.map(([k, v]) => key(k) + ser(v)).join('')}}`
}

describe('pl-replace.php: serialized-safe URL rewrite', () => {
  it('replaces the plain, JSON-escaped and URL-encoded (upper- and lower-case) forms of the source URL', () => {
    const { out, pairs, unparsable } = rewrite([
      'Visit http://old.host/about/ and http://old.host.',
      '{"home":"http:\\/\\/old.host\\/shop\\/","n":1}',
      '<!-- wp:image {"url":"http:\\/\\/old.host\\/wp-content\\/uploads\\/a.png"} /-->',
      'https://share.example/?u=http%3A%2F%2Fold.host%2Fabout%2F',
      'https://share.example/?u=http%3a%2f%2fold.host%2fabout',
      'http://other.host/ and https://old.host/ (another scheme) stay',
    ])
    expect(pairs).toEqual({
      'http://old.host': TO, 'http:\\/\\/old.host': 'https:\\/\\/new.example.org',
      'http%3A%2F%2Fold.host': 'https%3A%2F%2Fnew.example.org', 'http%3a%2f%2fold.host': 'https%3A%2F%2Fnew.example.org',
    })
    expect(out.map((o) => o.value)).toEqual([
      'Visit https://new.example.org/about/ and https://new.example.org.',
      '{"home":"https:\\/\\/new.example.org\\/shop\\/","n":1}',
      '<!-- wp:image {"url":"https:\\/\\/new.example.org\\/wp-content\\/uploads\\/a.png"} /-->',
      'https://share.example/?u=https%3A%2F%2Fnew.example.org%2Fabout%2F',
      'https://share.example/?u=https%3A%2F%2Fnew.example.org%2fabout',
      'http://other.host/ and https://old.host/ (another scheme) stay',
    ])
    expect(unparsable).toBe(0)
  })

  it('rewrites nested serialized arrays and recomputes every string length (multibyte included)', () => {
    const before = {
      title: 'Links', text: '<a href="http://old.host/über/">Über uns</a>',
      nested: { deep: { url: 'http://old.host/x', list: ['http://old.host/1', 'keep'] }, n: 3, f: { float: 1.5 }, b: true, none: null },
      json: '{"u":"http:\\/\\/old.host\\/j"}', 7: 'http%3A%2F%2Fold.host%2Fe',
    }
    const after = {
      title: 'Links', text: '<a href="https://new.example.org/über/">Über uns</a>',
      nested: { deep: { url: 'https://new.example.org/x', list: ['https://new.example.org/1', 'keep'] }, n: 3, f: { float: 1.5 }, b: true, none: null },
      json: '{"u":"https:\\/\\/new.example.org\\/j"}', 7: 'https%3A%2F%2Fnew.example.org%2Fe',
    }
    const { out, unparsable } = rewrite([ser(before), ` ${ser(['http://old.host'])}\n`])
    expect(out[0]).toEqual({ value: ser(after), parses: true })
    // Surrounding whitespace is dropped with the rewrite (as WordPress's maybe_unserialize() ignores it).
    expect(out[1]).toEqual({ value: ser(['https://new.example.org']), parses: true })
    expect(ser(after).length).not.toBe(ser(before).length)
    expect(unparsable).toBe(0)
  })

  it('rewrites a serialized value stored inside a serialized string (double serialization), both lengths recomputed', () => {
    const inner = ser({ url: 'http://old.host/in' })
    const { out } = rewrite([ser({ option: inner })])
    expect(out[0]).toEqual({ value: ser({ option: ser({ url: 'https://new.example.org/in' }) }), parses: true })
  })

  it('rewrites objects of unknown classes without instantiating them: class name and property visibility kept, no magic method runs', () => {
    const widget = (url: string) => ser({ class: 'Vendor_Widget', props: { url, '\0*\0prot': `${url}/p`, '\0Vendor_Widget\0priv': [`${url}/q`] } })
    const gadget = (url: string) => ser({ class: 'PlTestGadget', props: { url } })
    const { out, marker, unparsable } = rewrite([widget('http://old.host'), gadget('http://old.host/g'), ser([gadget('http://old.host/h')])])
    expect(out[0]).toEqual({ value: widget('https://new.example.org'), parses: true })
    // PlTestGadget exists in the PHP process, with __wakeup and __destruct: allowed_classes => false keeps it an
    // incomplete class, so neither ran, and it is written back as the same class with the rewritten property.
    expect(out[1]).toEqual({ value: gadget('https://new.example.org/g'), parses: true })
    expect(out[2]).toEqual({ value: ser([gadget('https://new.example.org/h')]), parses: true })
    expect(marker).toBe('')
    expect(unparsable).toBe(0)
  })

  it('leaves custom-serialized objects, enums and broken serialized values byte-identical and counts them as unparsable', () => {
    const custom = 'C:11:"ArrayObject":37:{x:i:0;a:1:{i:0;s:15:"http://old.host";};m:a:0:{}}'
    const enumValue = 'a:1:{s:1:"e";E:14:"Suit:Diamonds";}'
    const broken = 'a:1:{s:3:"url";s:99:"http://old.host";}'
    const { out, unparsable, marker } = rewrite([custom, enumValue, broken])
    expect(out.map((o) => o.value)).toEqual([custom, enumValue, broken])
    expect(unparsable).toBe(3)
    expect(marker).toBe('')
  })

  it('treats strings that only look like serialized values as plain text, and leaves values without the URL alone', () => {
    const { out, unparsable } = rewrite(['s:5:not serialized http://old.host', 'b:0;', 'i:42;', 'N;', ser({ a: 'no url here' }), ''])
    expect(out.map((o) => o.value)).toEqual(['s:5:not serialized https://new.example.org', 'b:0;', 'i:42;', 'N;', ser({ a: 'no url here' }), ''])
    expect(unparsable).toBe(0)
  })
})
