// The typed HTTP edge: tsc accepts tests/types/define-function.typecheck.ts, whose @ts-expect-error lines mark handlers
// returning an undeclared status or body, and rejects a copy without those lines at exactly those handlers.
import fs from 'node:fs'
import path from 'node:path'
import { execa } from 'execa'
import { afterAll, describe, expect, it } from 'vitest'

const ROOT = path.resolve(import.meta.dirname, '../..')
const TYPES = path.join(ROOT, 'tests/types')
const SOURCE = path.join(TYPES, 'define-function.typecheck.ts')
const COPY = path.join(TYPES, 'define-function.unmarked.ts')
const COPY_CONFIG = path.join(TYPES, 'tsconfig.unmarked.json')
const TSC = path.join(ROOT, 'node_modules/typescript/bin/tsc')

afterAll(() => { fs.rmSync(COPY, { force: true }); fs.rmSync(COPY_CONFIG, { force: true }) })

describe('defineFunction types handlers by their route', () => {
  it('type-checks the declared handlers and every @ts-expect-error is a real error', async () => {
    const result = await execa('node', [TSC, '--noEmit', '-p', path.join(TYPES, 'tsconfig.json')], { cwd: ROOT, reject: false })
    expect(result.stdout + result.stderr).toBe('')
    expect(result.exitCode).toBe(0)
  }, 120_000)

  it('fails on the undeclared status, the wrong body and the body of another status once the markers are gone', async () => {
    const lines = fs.readFileSync(SOURCE, 'utf8').split('\n')
    const marked: number[] = []
    const unmarked = lines.filter((line, i) => {
      if (!line.trim().startsWith('// @ts-expect-error')) return true
      marked.push(i + 1 - marked.length) // line number of the handler in the copy
      return false
    })
    expect(marked).toHaveLength(3)
    fs.writeFileSync(COPY, unmarked.join('\n'))
    fs.writeFileSync(COPY_CONFIG, JSON.stringify({ extends: '../../tsconfig.json', compilerOptions: { noEmit: true }, include: [path.basename(COPY)] }))
    const result = await execa('node', [TSC, '--noEmit', '--pretty', 'false', '-p', COPY_CONFIG], { cwd: ROOT, reject: false })
    expect(result.exitCode).not.toBe(0)
    const errorLines = [...result.stdout.matchAll(/define-function\.unmarked\.ts\((\d+),\d+\): error TS\d+/g)].map((m) => Number(m[1]))
    expect([...new Set(errorLines)].sort((a, b) => a - b)).toEqual(marked)
  }, 120_000)
})
