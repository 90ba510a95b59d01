import fs from 'node:fs'
import path from 'node:path'
import { describe, it, expect } from 'vitest'
import { renderContracts, CONTRACTS_DIR } from '../../runtime/contracts/generate.js'

describe('committed OpenAPI contracts', () => {
  it('match a fresh generation from the routes (run `npm run contracts` after changing a route or schema)', () => {
    for (const [name, fresh] of Object.entries(renderContracts())) {
      const committed = fs.readFileSync(path.join(CONTRACTS_DIR, name), 'utf8')
      expect(committed, `contracts/${name} is stale`).toBe(fresh)
    }
  })

  it('names its component schemas and keeps /_admin out of the public document', () => {
    const doc = JSON.parse(renderContracts()['openapi.json'])
    expect(doc.openapi).toBe('3.1.0')
    expect(Object.keys(doc.components.schemas)).toEqual(expect.arrayContaining(['ErrorResponse', 'LoginRequest', 'SuccessResponse']))
    expect(Object.keys(doc.paths).some((p) => p.startsWith('/_admin'))).toBe(false)
  })
})
