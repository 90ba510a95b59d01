// Entry point of `npm start`: configuration, bootstrap, HTTP server, scheduler; never touches the host by itself.
import { endOfStartup } from './heap-tuning.js'

async function main(): Promise<void> {
  // Imported here, not at the top: an ES module graph is parsed before any of it runs, and heap-tuning.ts must come first.
  const { serve } = await import('@hono/node-server')
  const { loadConfig, ConfigError } = await import('./config.js')
  const { createLogger } = await import('./logging.js')
  const { bootstrap } = await import('./bootstrap.js')
  // Everything this process and its children (ansible-playbook, ssh, ssh-keygen) create is private to the control plane's
  // user, also files no code of ours names (SQLite's -wal/-shm, ssh's known_hosts, Ansible's temp files, the playbooks'
  // result files): the explicit 0700/0600 modes of runtime/store/private-data.ts cover what we know, the umask the rest.
  process.umask(0o077)
  let config
  try {
    config = loadConfig()
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`pressluft: invalid configuration: ${error.message}\n`)
      process.exit(1)
    }
    throw error
  }
  const logger = createLogger(config.logLevel)
  const plane = await bootstrap(config, logger, { startScheduler: true })
  if (plane.generatedAdminPassword) {
    // Printed once, outside the logger, so the password never enters a log pipeline.
    process.stdout.write(`\nPressluft admin created: ${config.adminEmail}\nGenerated password (shown only once): ${plane.generatedAdminPassword}\n\n`)
  }
  const server = serve({ fetch: plane.app.fetch, hostname: config.listenHost, port: config.listenPort }, (info) => {
    endOfStartup()
    logger.info({ address: info.address, port: info.port }, 'control plane listening')
  })
  let stopping = false
  const shutdown = async (signal: string) => {
    if (stopping) return
    stopping = true
    logger.info({ signal }, 'shutting down')
    server.close()
    // Stop claiming, give running playbooks up to 60 s, then kill them; their jobs are recovered at the next start.
    await plane.scheduler?.stop(60_000).catch((error) => logger.error({ err: error }, 'scheduler stop failed'))
    // Job events not yet written (at most 250 ms of them) go to the database before it closes.
    await plane.services.jobEvents.close().catch((error) => logger.error({ err: error }, 'job events flush failed'))
    plane.services.db.close()
    process.exit(0)
  }
  process.on('SIGTERM', () => { void shutdown('SIGTERM') })
  process.on('SIGINT', () => { void shutdown('SIGINT') })
}

main().catch((error) => {
  process.stderr.write(`pressluft: start-up failed: ${error instanceof Error ? error.message : String(error)}\n`)
  process.exit(1)
})
