// Comments and docs cite files inside the repository: no `spec/*.md`, no workspace or machine paths.
import fs from 'node:fs'
import path from 'node:path'
import { describe, expect, it } from 'vitest'

const ROOT = path.resolve(import.meta.dirname, '../..')
const THIS_FILE = 'tests/unit/citations.test.ts'

function files(): string[] {
  const out = ['README.md', 'hono.config.ts']
  for (const dir of ['runtime', 'functions', 'tests', 'docs', 'ansible', 'bench']) {
    for (const name of fs.readdirSync(path.join(ROOT, dir), { recursive: true }) as string[]) {
      const rel = path.join(dir, name)
      if (/\.(ts|md|yml|yaml|j2|sql|py|php|sh|cfg)$/.test(name) && fs.statSync(path.join(ROOT, rel)).isFile()) out.push(rel)
    }
  }
  return out.filter((f) => f !== THIS_FILE)
}

describe('citations', () => {
  it('no file cites spec/*.md or a path outside the repository', () => {
    const offending: string[] = []
    for (const file of files()) {
      const lines = fs.readFileSync(path.join(ROOT, file), 'utf8').split('\n')
      lines.forEach((line, i) => {
        // `../shared/` is a workspace path in docs; in roles it is a release's relative symlink on the node.
        const outside = file.endsWith('.md') && /\.\.\/shared\//.test(line)
        if (outside || /\bspec\/[a-z-]+\.md\b|shared\/spec|\/work\/(shared|main)\b/.test(line)) offending.push(`${file}:${i + 1}: ${line.trim()}`)
      })
    }
    expect(offending).toEqual([])
  })
})
