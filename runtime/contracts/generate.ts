// `npm run contracts`: writes contracts/openapi.json and contracts/admin-openapi.json from the mounted routes.
import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { functions } from '../../hono.config.js'
import { buildOpenApiDocument } from './openapi.js'

export const CONTRACTS_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../contracts')

export function renderContracts(): Record<string, string> {
  return {
    'openapi.json': `${JSON.stringify(buildOpenApiDocument(functions, 'public'), null, 2)}\n`,
    'admin-openapi.json': `${JSON.stringify(buildOpenApiDocument(functions, 'internal'), null, 2)}\n`,
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  fs.mkdirSync(CONTRACTS_DIR, { recursive: true })
  for (const [name, text] of Object.entries(renderContracts())) {
    fs.writeFileSync(path.join(CONTRACTS_DIR, name), text)
    console.log(`wrote contracts/${name}`)
  }
}
