// Baseline of `npm run bench:api`: a bare Hono app on @hono/node-server, run by plain node (no tsx), serving
// `GET /api/sites` with the exact JSON the control plane answered (read once from the file given as argument, parsed,
// and serialised per request by c.json like the real route does). Prints {"port":N} when listening.
import fs from 'node:fs'
import { serve } from '@hono/node-server'
import { Hono } from 'hono'

const body = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'))
const app = new Hono()
app.get('/api/sites', (c) => c.json(body))
const server = serve({ fetch: app.fetch, hostname: '127.0.0.1', port: 0 }, () => {
  process.stdout.write(`${JSON.stringify({ port: server.address().port })}\n`)
})
// A clean exit on SIGTERM, so that `node --cpu-prof` writes its profile.
process.on('SIGTERM', () => process.exit(0))
