import { connectRedis, openRedis } from './access/redis-client.ts'
import { createApp } from './app.ts'
import { ConfigError, loadConfig, quietAwsNodeVersionWarning } from './config.ts'
import { openPostgres, type Postgres } from './db/pg-client.ts'
import { type AppDeps, createDeps, START_CHECK_TIMEOUT_MS } from './deps.ts'
import { serveImagegate } from './http/server/serve.ts'
import { systemClock } from './ids.ts'
import { createLogger } from './logger.ts'
import {
  BackendsUnavailableError,
  blobStoreProbe,
  checkBackendsAtStart,
} from './services/readiness.ts'
import { createConfiguredBlobStore } from './storage/configured-blob-store.ts'

function printBootstrapped(bootstrap: NonNullable<AppDeps['bootstrap']>) {
  if (bootstrap.file === undefined) {
    process.stdout.write(
      `imagegate: created workspace "${bootstrap.workspaceId}" with the admin key from IMAGEGATE_BOOTSTRAP_ADMIN_KEY.\n`,
    )
    return
  }
  // Once, on the console only (never into the log): the key exists nowhere else but this file.
  process.stdout.write(
    [
      '',
      `imagegate: created workspace "${bootstrap.workspaceId}" and an admin API key. It is shown this once:`,
      '',
      `    ${bootstrap.key}`,
      '',
      `It is also in ${bootstrap.file} (mode 0600). Send it as Authorization: Bearer <key>.`,
      '',
      '',
    ].join('\n'),
  )
}

async function start() {
  quietAwsNodeVersionWarning()
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
  // PostgreSQL (shared by every instance) when configured: unreachable, or its migrations
  // failing, stops the start with one message before anything is written.
  let postgres: Postgres | undefined
  if (config.databaseUrl !== undefined) {
    try {
      postgres = await openPostgres(config.databaseUrl, {
        maxConnections: config.databasePoolSize,
        applicationName: 'imagegate',
        onIdleError: (err) => log.warn({ err }, 'an idle database connection broke'),
      })
    } catch (err) {
      process.stderr.write(`imagegate: IMAGEGATE_DATABASE_URL: ${(err as Error).message}
`)
      process.exit(2)
    }
    if (postgres.migrated.applied > 0) {
      log.info({ applied: postgres.migrated.applied }, 'database migrated')
    }
  }
  // An unreachable Redis fails the start, before anything is written to the data dir; once
  // running, an outage falls back to per-instance limits (access/fallback-gcra-store.ts).
  const redis = config.redis ? openRedis(config.redis.url) : undefined
  if (redis) {
    try {
      await connectRedis(redis)
    } catch (err) {
      process.stderr.write(`imagegate: IMAGEGATE_REDIS_URL: ${(err as Error).message}\n`)
      process.exit(2)
    }
  }
  // The object store too: an unreachable bucket fails the start before the first start's
  // bootstrap writes its key, so the fixed start is the one that prints it.
  const blobStore = createConfiguredBlobStore(config, systemClock)
  try {
    await checkBackendsAtStart(
      [blobStoreProbe(blobStore.store, blobStore.description)],
      START_CHECK_TIMEOUT_MS,
    )
  } catch (err) {
    if (err instanceof BackendsUnavailableError) {
      process.stderr.write(`imagegate: not started. ${err.message}\n`)
      process.exit(2)
    }
    throw err
  }
  const deps = await createDeps(config, { log, redis, blobStore, postgres })
  try {
    await deps.checkBackends()
  } catch (err) {
    if (err instanceof BackendsUnavailableError) {
      process.stderr.write(`imagegate: not started. ${err.message}\n`)
      await deps.close()
      process.exit(2)
    }
    throw err
  }
  const app = createApp(deps)
  if (deps.bootstrap) {
    printBootstrapped(deps.bootstrap)
  }
  // Before serving: no generation of this process is running yet.
  await deps.failInterruptedGenerations('start-up')
  deps.webhookDispatcher.start()
  deps.jobs.worker.start()
  void deps
    .startMaintenance()
    .catch((err: unknown) => log.error({ err }, 'start-up maintenance failed'))

  const listen = { port: config.port, hostname: config.host, limits: config.server }
  const server = serveImagegate(app, deps, listen, (info) => {
    log.info(
      { address: info.address, port: info.port, dataDir: config.dataDir },
      `imagegate listening on http://${info.address}:${info.port}`,
    )
  })

  let stopping = false
  /**
   * No new connections; each in-flight request is finished, including generations whose client
   * has hung up (they are paid for), within IMAGEGATE_SHUTDOWN_GRACE_MS. Past it, the remaining
   * connections are closed and the generations still running are recorded as failed before the
   * database closes.
   */
  const shutdown = async (signal: string) => {
    if (stopping) {
      return
    }
    stopping = true
    log.info({ signal }, 'shutting down: no new connections, finishing in-flight requests')
    const closed = new Promise<void>((resolve) => server.close(() => resolve()))
    // Keep-alive connections go idle once their in-flight request is answered; close them as
    // they do, instead of waiting for the keep-alive timeout.
    server.closeIdleConnections()
    const sweepIdle = setInterval(() => {
      server.closeIdleConnections()
    }, 50)
    let graceTimer: NodeJS.Timeout | undefined
    // Jobs get the same grace; one still running after it is taken over, as after a crash.
    const jobsStopped = deps.jobs.worker.stop(config.shutdownGraceMs)
    const finished = await Promise.race([
      Promise.all([closed, deps.inFlight.idle()]).then(() => true),
      new Promise<false>((resolve) => {
        graceTimer = setTimeout(() => resolve(false), config.shutdownGraceMs)
      }),
    ])
    await jobsStopped
    clearTimeout(graceTimer)
    clearInterval(sweepIdle)
    if (!finished) {
      log.warn({ inFlight: deps.inFlight.size }, 'grace period over, closing remaining connections')
      server.closeAllConnections()
      await deps.failInterruptedGenerations('shutdown')
    }
    await deps.close()
    log.info('shutdown complete')
    process.exit(0)
  }
  process.on('SIGTERM', () => void shutdown('SIGTERM'))
  process.on('SIGINT', () => void shutdown('SIGINT'))
}

start().catch((err: unknown) => {
  process.stderr.write(
    `imagegate: not started. ${err instanceof Error ? err.message : String(err)}\n`,
  )
  process.exit(1)
})
