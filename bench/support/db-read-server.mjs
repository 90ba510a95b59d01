// The floor of `npm run bench:api`: a bare Hono app on @hono/node-server, run by plain node, whose GET /api/sites does
// only the control plane's own database read — the built store's listSites (dist/runtime/store/sites.js) on the same
// database file, the same SQL and the same bytes — with no authentication, no request validation and no middleware.
// What it costs beyond the bare route is the database read; what the control plane costs beyond it is everything else.
// Argument: the database file. Prints {"port":N} when listening.
import { serve } from '@hono/node-server'
import { Hono } from 'hono'
import { openDatabase } from '../../dist/runtime/store/db.js'
import { pageRequest } from '../../dist/runtime/store/pagination.js'
import { listSites } from '../../dist/runtime/store/sites.js'

const db = openDatabase(`file:${process.argv[2]}`)
const app = new Hono()
app.get('/api/sites', async (c) => {
  const page = await listSites(db, pageRequest({ limit: Number(c.req.query('limit') ?? 50) }))
  return c.body(page.json, 200, { 'Content-Type': 'application/json' })
})
const server = serve({ fetch: app.fetch, hostname: '127.0.0.1', port: 0 }, () => {
  process.stdout.write(`${JSON.stringify({ port: server.address().port })}\n`)
})
process.on('SIGTERM', () => { db.close(); process.exit(0) })
