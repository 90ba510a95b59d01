// The typed HTTP edge: tsc accepts tests/types/define-function.typecheck.ts, whose @ts-expect-error lines mark handlers
// returning an undeclared status or body, and rejects a copy without those lines at exactly those handlers. One tsc
// run checks both files, so the shared imports are type-checked once.
import fs from 'node:fs'
import path from 'node:path'
import { execa } from 'execa'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

const ROOT = path.resolve(import.meta.dirname, '../..')
const SOURCE = path.join(ROOT, 'tests/types/define-function.typecheck.ts')
// The unmarked copy lives outside the project's `include`: a concurrent `tsc -p tsconfig.json` must not see it.
const WORK = path.join(ROOT, 'tmp/typed-edge') // git-ignored
const COPY = path.join(WORK, 'define-function.unmarked.ts')
const CONFIG = path.join(WORK, 'tsconfig.json')
const TSC = path.join(ROOT, 'node_modules/typescript/bin/tsc')

/** Line numbers (in the copy) of the handlers the source marks with @ts-expect-error. */
const marked: number[] = []
let output = ''
let exitCode: number | undefined

beforeAll(async () => {
  const unmarked = fs.readFileSync(SOURCE, 'utf8').split('\n').filter((line, i) => {
    if (!line.trim().startsWith('// @ts-expect-error')) return true
    marked.push(i + 1 - marked.length)
    return false
  })
  fs.mkdirSync(WORK, { recursive: true })
  const rel = (file: string) => path.relative(WORK, path.join(ROOT, file))
  fs.writeFileSync(COPY, unmarked.join('\n').replace("'../../runtime/http/define-function.js'", `'${rel('runtime/http/define-function.js')}'`))
  fs.writeFileSync(CONFIG, JSON.stringify({
    extends: rel('tsconfig.json'), compilerOptions: { noEmit: true }, files: [rel('tests/types/define-function.typecheck.ts'), path.basename(COPY)],
  }))
  const result = await execa('node', [TSC, '--noEmit', '--pretty', 'false', '-p', CONFIG], { cwd: ROOT, reject: false })
  output = result.stdout + result.stderr
  exitCode = result.exitCode
}, 240_000)

afterAll(() => { fs.rmSync(WORK, { recursive: true, force: true }) })

describe('defineFunction types handlers by their route', () => {
  it('type-checks the declared handlers, and every @ts-expect-error of the source is a real error', () => {
    expect(marked).toHaveLength(3)
    // An @ts-expect-error that is no error would be reported as TS2578 in the source file.
    expect(output.split('\n').filter((line) => line.includes('define-function.typecheck.ts'))).toEqual([])
  })

  it('fails on the undeclared status, the wrong body and the body of another status once the markers are gone', () => {
    expect(exitCode).not.toBe(0)
    const errorLines = [...output.matchAll(/define-function\.unmarked\.ts\((\d+),\d+\): error TS\d+/g)].map((m) => Number(m[1]))
    expect([...new Set(errorLines)].sort((a, b) => a - b)).toEqual(marked)
    expect(output.split('\n').filter((line) => /error TS/.test(line) && !line.includes('define-function.unmarked.ts'))).toEqual([])
  })
})
