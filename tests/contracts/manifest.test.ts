import fs from 'node:fs'
import path from 'node:path'
import { pathToFileURL } from 'node:url'
import { describe, it, expect } from 'vitest'
import { functions, schedules } from '../../hono.config.js'

function modulesUnder(dir: string): string[] {
  return (fs.readdirSync(dir, { recursive: true }) as string[])
    .filter((f) => f.endsWith('.ts'))
    .map((f) => path.join(dir, f))
}

describe('hono.config.ts manifest', () => {
  it('lists every endpoint module under functions/ exactly once, and nothing else', async () => {
    const root = path.resolve('functions')
    const endpointFiles = modulesUnder(root).filter((f) => !f.includes(`${path.sep}scheduled${path.sep}`))
    const listed = new Set(functions)
    for (const file of endpointFiles) {
      const mod = await import(pathToFileURL(file).href)
      expect(listed.has(mod.default), `${path.relative(root, file)} is not listed in hono.config.ts`).toBe(true)
    }
    expect(functions.length).toBe(endpointFiles.length)
    expect(new Set(functions.map((f) => `${f.route.method} ${f.route.path}`)).size).toBe(functions.length)
  })

  it('lists every scheduled function under functions/scheduled/', async () => {
    const dir = path.resolve('functions/scheduled')
    const files = fs.existsSync(dir) ? modulesUnder(dir) : []
    const listed = new Set(schedules)
    for (const file of files) {
      const mod = await import(pathToFileURL(file).href)
      expect(listed.has(mod.default), `${path.basename(file)} is not listed in hono.config.ts schedules`).toBe(true)
    }
    expect(schedules.length).toBe(files.length)
  })
})
