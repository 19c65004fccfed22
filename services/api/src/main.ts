import { createApp } from './app.ts'
import { ConfigError, loadConfig } from './config.ts'
import { createDeps } from './deps.ts'
import { serveImagegate } from './http/serve.ts'
import { createLogger } from './logger.ts'

function start() {
  let config: ReturnType<typeof loadConfig>
  try {
    config = loadConfig()
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`imagegate: ${err.message}\n`)
      process.exit(2)
    }
    throw err
  }
  const log = createLogger(config)
  const deps = createDeps(config, { log })
  const app = createApp(deps)
  if (deps.bootstrap) {
    // Once, on the console only (never into the log): the key exists nowhere else but this file.
    process.stdout.write(
      [
        '',
        `imagegate: created workspace "${deps.bootstrap.workspaceId}" and an admin API key. It is shown this once:`,
        '',
        `    ${deps.bootstrap.key}`,
        '',
        `It is also in ${deps.bootstrap.file} (mode 0600). Send it as Authorization: Bearer <key>.`,
        '',
        '',
      ].join('\n'),
    )
  }
  void deps
    .startMaintenance()
    .catch((err: unknown) => log.error({ err }, 'start-up maintenance failed'))

  const server = serveImagegate(app, deps, { port: config.port, hostname: config.host }, (info) => {
    log.info(
      { address: info.address, port: info.port, dataDir: config.dataDir },
      `imagegate listening on http://${info.address}:${info.port}`,
    )
  })

  let stopping = false
  const shutdown = (signal: string) => {
    if (stopping) {
      return
    }
    stopping = true
    log.info({ signal }, 'shutting down: no new connections, draining in-flight requests')
    const force = setTimeout(() => {
      log.warn('grace period over, closing remaining connections')
      server.closeAllConnections()
    }, config.shutdownGraceMs)
    force.unref()
    // Keep-alive connections go idle once their in-flight request is answered; close them as
    // they do, instead of waiting for the keep-alive timeout.
    const sweepIdle = setInterval(() => {
      server.closeIdleConnections()
    }, 50)
    sweepIdle.unref()
    server.close(async () => {
      clearTimeout(force)
      clearInterval(sweepIdle)
      await deps.close()
      log.info('shutdown complete')
      process.exit(0)
    })
    server.closeIdleConnections()
  }
  process.on('SIGTERM', () => shutdown('SIGTERM'))
  process.on('SIGINT', () => shutdown('SIGINT'))
}

start()
