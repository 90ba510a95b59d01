// The layers of docs/architecture.md "Import directions" run one way: no import cycle among runtime/, functions/ and
// hono.config.ts, counting `import type` and re-exports too. The graph comes from the TypeScript compiler's own
// import scanner (ts.preProcessFile), not from a regular expression.
import fs from 'node:fs'
import path from 'node:path'
import ts from 'typescript'
import { describe, expect, it } from 'vitest'

const ROOT = path.resolve(import.meta.dirname, '../..')

function sources(): string[] {
  const files = [path.join(ROOT, 'hono.config.ts')]
  for (const dir of ['runtime', 'functions']) {
    for (const name of fs.readdirSync(path.join(ROOT, dir), { recursive: true }) as string[]) {
      if (name.endsWith('.ts') && !name.endsWith('.d.ts')) files.push(path.join(ROOT, dir, name))
    }
  }
  return files
}

const REGISTRY = path.join(ROOT, 'runtime/jobs/registry.ts')
const TYPES_DIR = path.join(ROOT, 'runtime/jobs/types')

/**
 * Relative imports of a file resolved to files of the graph (`./x.js` is the source `./x.ts`). The job registry
 * imports every module of runtime/jobs/types/ by a computed path, so those edges are added here.
 */
export function importsOf(file: string, known: Set<string>): string[] {
  const info = ts.preProcessFile(fs.readFileSync(file, 'utf8'), true, true)
  const out: string[] = file === REGISTRY ? [...known].filter((f) => path.dirname(f) === TYPES_DIR) : []
  for (const ref of info.importedFiles) {
    if (!ref.fileName.startsWith('.')) continue
    const target = path.resolve(path.dirname(file), ref.fileName).replace(/\.js$/, '.ts')
    if (known.has(target)) out.push(target)
  }
  return out
}

/** Strongly connected components with more than one file (or a file importing itself): Tarjan's algorithm. */
export function cycles(graph: Map<string, string[]>): string[][] {
  let next = 0
  const index = new Map<string, number>()
  const low = new Map<string, number>()
  const stack: string[] = []
  const onStack = new Set<string>()
  const found: string[][] = []
  const visit = (v: string) => {
    index.set(v, next); low.set(v, next); next++
    stack.push(v); onStack.add(v)
    for (const w of graph.get(v) ?? []) {
      if (!index.has(w)) { visit(w); low.set(v, Math.min(low.get(v)!, low.get(w)!)) }
      else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!))
    }
    if (low.get(v) === index.get(v)) {
      const component: string[] = []
      let w: string
      do { w = stack.pop()!; onStack.delete(w); component.push(w) } while (w !== v)
      if (component.length > 1 || (graph.get(v) ?? []).includes(v)) found.push(component.map((f) => path.relative(ROOT, f)).sort())
    }
  }
  for (const v of graph.keys()) if (!index.has(v)) visit(v)
  return found
}

describe('import graph of runtime/, functions/ and hono.config.ts', () => {
  it('finds the cycle in a graph that has one, and none in a chain (the checker itself works)', () => {
    const a = path.join(ROOT, 'a.ts'), b = path.join(ROOT, 'b.ts'), c = path.join(ROOT, 'c.ts')
    expect(cycles(new Map([[a, [b]], [b, [c]], [c, [a]]]))).toEqual([['a.ts', 'b.ts', 'c.ts']])
    expect(cycles(new Map([[a, [b]], [b, [c]], [c, []]]))).toEqual([])
    const probe = path.join(ROOT, 'runtime/jobs/job-queue.ts')
    expect(importsOf(probe, new Set(sources()))).toContain(path.join(ROOT, 'runtime/jobs/job-runner.ts')) // an `import type`
    expect(importsOf(REGISTRY, new Set(sources()))).toContain(path.join(TYPES_DIR, 'site-create.ts'))
  })

  it('has no import cycle, type-only imports included', () => {
    const files = sources()
    const known = new Set(files)
    const graph = new Map(files.map((file) => [file, importsOf(file, known)]))
    expect(graph.size).toBeGreaterThan(100)
    expect(cycles(graph)).toEqual([])
  })
})
