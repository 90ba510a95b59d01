// The memory reference of `npm run bench:api`: a process that loads what the control plane's server cannot do without —
// @hono/node-server, @hono/zod-openapi (with zod), pino, the libsql driver on the benchmark's database, jose — with
// the control plane's own start-up heap tuning (dist/runtime/heap-tuning.js), and serves one validated route. None of
// the control plane's own code, routes or services: its idle RSS is what the libraries alone hold.
// Argument: the database file. Prints {"port":N} when listening.
import { endOfStartup } from '../../dist/runtime/heap-tuning.js'
import { serve } from '@hono/node-server'
import { OpenAPIHono, createRoute, z } from '@hono/zod-openapi'
import pino from 'pino'
import Database from 'libsql'
import { CompactEncrypt } from 'jose'

const db = new Database(process.argv[2], { readonly: true })
const logger = pino({ level: 'warn' })
const app = new OpenAPIHono()
const route = createRoute({
  method: 'get', path: '/api/count', request: { query: z.object({ limit: z.coerce.number().int().optional() }) },
  responses: { 200: { description: 'The number of sites' } },
})
app.openapi(route, (c) => c.json({ sites: db.prepare('SELECT count(*) AS n FROM sites').get().n, jwe: typeof CompactEncrypt }))
const server = serve({ fetch: app.fetch, hostname: '127.0.0.1', port: 0 }, () => {
  endOfStartup()
  logger.debug('listening')
  process.stdout.write(`${JSON.stringify({ port: server.address().port })}\n`)
})
process.on('SIGTERM', () => { db.close(); process.exit(0) })
