// Benchmark server process: `serve.ts pressluft <data_dir>` serves a seeded control plane (no scheduler), `serve.ts bare` a bare Hono route.
import { serve } from '@hono/node-server'
import { Hono } from 'hono'
import type { AddressInfo } from 'node:net'
import { loadConfig } from '../../runtime/config.js'
import { createLogger } from '../../runtime/logging.js'
import { bootstrap } from '../../runtime/bootstrap.js'

async function main() {
  const [kind, dataDir] = process.argv.slice(2)
  let fetch: (req: Request) => Response | Promise<Response>
  if (kind === 'bare') {
    const app = new Hono()
    // Same payload size class as the real route, so the ratio measures Pressluft's work, not JSON size.
    app.get('/api/sites', (c) => c.json({ items: [], next_cursor: null }))
    fetch = app.fetch
  } else {
    const config = loadConfig({ PRESSLUFT_DATA_DIR: dataDir, PRESSLUFT_ADMIN_PASSWORD: 'benchmark-password-123', PRESSLUFT_LOG_LEVEL: 'warn' })
    const plane = await bootstrap(config, createLogger('warn'), { scryptParams: { logN: 10, r: 8, p: 1 } })
    fetch = plane.app.fetch
  }
  const server = serve({ fetch, hostname: '127.0.0.1', port: 0 }, () => {
    process.stdout.write(`${JSON.stringify({ port: (server.address() as AddressInfo).port })}\n`)
  })
}

main().catch((e) => { console.error(e); process.exit(1) })
