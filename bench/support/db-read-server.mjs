// The floors of `npm run bench:api`: a bare Hono app on @hono/node-server, run by plain node, whose GET /api/sites does
// only the control plane's own database read — the built store's listSites (dist/runtime/store/sites.js) on the same
// database file, the same SQL and the same bytes — with no authentication, no request validation and no middleware.
// What it costs beyond the bare route is the database read; what the control plane costs beyond it is everything else.
// With `--session` it also checks the request's session cookie with the control plane's own code (the built
// requestCookie and AuthService.authenticate: the cookie from Node's parsed headers, SHA-256, the session query on the
// same database) and answers 401 without one: the least any authenticated read of the page can cost on this stack,
// with no validation and no middleware.
// Arguments: the database file [--session]. Prints {"port":N} when listening.
import { serve } from '@hono/node-server'
import { Hono } from 'hono'
import { openDatabase } from '../../dist/runtime/store/db.js'
import { pageRequest } from '../../dist/runtime/store/pagination.js'
import { listSites } from '../../dist/runtime/store/sites.js'
import { AuthService } from '../../dist/runtime/auth/auth-service.js'
import { requestCookie } from '../../dist/runtime/http/request-headers.js'
import { createLogger } from '../../dist/runtime/logging.js'

const db = openDatabase(`file:${process.argv[2]}`)
const auth = process.argv.includes('--session') ? new AuthService(db, createLogger('warn')) : undefined
const app = new Hono()
app.get('/api/sites', async (c) => {
  if (auth && !(await auth.authenticate(requestCookie(c, 'session_token')))) {
    return c.json({ code: 'unauthorized', message: 'Sign in first' }, 401)
  }
  const page = await listSites(db, pageRequest({ limit: Number(c.req.query('limit') ?? 50) }))
  return c.body(page.json, 200, { 'Content-Type': 'application/json' })
})
const server = serve({ fetch: app.fetch, hostname: '127.0.0.1', port: 0 }, () => {
  process.stdout.write(`${JSON.stringify({ port: server.address().port })}\n`)
})
process.on('SIGTERM', () => { db.close(); process.exit(0) })
