// Entry point of `npm start`: configuration, bootstrap, HTTP server, scheduler; never touches the host by itself.
import { serve } from '@hono/node-server'
import { loadConfig, ConfigError } from './config.js'
import { createLogger } from './logging.js'
import { bootstrap } from './bootstrap.js'

async function main(): Promise<void> {
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
  const plane = await bootstrap(config, logger)
  if (plane.generatedAdminPassword) {
    // Printed once, outside the logger, so the password never enters a log pipeline.
    process.stdout.write(`\nPressluft admin created: ${config.adminEmail}\nGenerated password (shown only once): ${plane.generatedAdminPassword}\n\n`)
  }
  const server = serve({ fetch: plane.app.fetch, hostname: config.listenHost, port: config.listenPort }, (info) => {
    logger.info({ address: info.address, port: info.port }, 'control plane listening')
  })
  const shutdown = (signal: string) => {
    logger.info({ signal }, 'shutting down')
    server.close()
    plane.services.db.close()
    process.exit(0)
  }
  process.on('SIGTERM', () => shutdown('SIGTERM'))
  process.on('SIGINT', () => shutdown('SIGINT'))
}

main().catch((error) => {
  process.stderr.write(`pressluft: start-up failed: ${error instanceof Error ? error.message : String(error)}\n`)
  process.exit(1)
})
