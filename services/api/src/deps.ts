import { randomBytes } from 'node:crypto'
import { accessSync, constants, mkdirSync } from 'node:fs'
import path from 'node:path'
import type { Redis } from 'ioredis'
import type { Logger } from 'pino'
import { type AuthFailureLimiter, createAuthFailureLimiter } from './access/auth-failures.ts'
import { withLocalFallback } from './access/fallback-gcra-store.ts'
import { createMemoryGcraStore, type GcraStore } from './access/gcra-store.ts'
import { createIdempotency, type Idempotency } from './access/idempotency-claims.ts'
import { createRateLimiter, type RateLimiter } from './access/rate-limiter.ts'
import { openRedis } from './access/redis-client.ts'
import { createRedisGcraStore } from './access/redis-gcra-store.ts'
import { readOrCreateSecret } from './access/secret-file.ts'
import { type ClientAddressOf, clientAddressOf } from './access/trusted-proxies.ts'
import { type Catalog, loadCatalog } from './catalog/catalog.ts'
import type { Config } from './config.ts'
import { openDatabase } from './db/client.ts'
import type { JobQueue } from './db/jobs/job-queue.ts'
import { createPgJobQueue } from './db/jobs/pg-job-queue.ts'
import { createSqliteJobQueue } from './db/jobs/sqlite-job-queue.ts'
import type { Postgres } from './db/pg-client.ts'
import { createPgStore } from './db/pg-store.ts'
import type { GenerationsRepository } from './db/ports.ts'
import { createPgWebhookStore } from './db/repositories/webhooks-pg.ts'
import { createSqliteWebhookStore } from './db/repositories/webhooks-sqlite.ts'
import { createSqliteStore } from './db/sqlite-store.ts'
import type { Store } from './db/store.ts'
import { createInFlightRequests, type InFlightRequests } from './http/middleware/in-flight.ts'
import { createMetrics, type HttpMetrics } from './http/middleware/metrics.ts'
import { type Clock, createIdGenerator, type IdGenerator, systemClock } from './ids.ts'
import { createLogger } from './logger.ts'
import { createGeminiProvider } from './providers/gemini.ts'
import type { Fetch } from './providers/http-errors.ts'
import { createLocalProvider } from './providers/local.ts'
import { createOpenAIProvider } from './providers/openai.ts'
import { createPooledFetch } from './providers/pooled-fetch.ts'
import type { Random } from './providers/resilience/backoff.ts'
import { createCircuitBreaker } from './providers/resilience/circuit-breaker.ts'
import { createRetryBudget } from './providers/resilience/retry-budget.ts'
import { type Sleep, systemSleep } from './providers/resilience/sleep.ts'
import type { ImageProvider, ProviderName } from './providers/types.ts'
import { type ApiKeyService, createApiKeyService } from './services/access/api-keys.ts'
import {
  BOOTSTRAP_WORKSPACE_ID,
  type Bootstrapped,
  bootstrapAccess,
} from './services/access/bootstrap.ts'
import { type CreditService, createCreditService } from './services/access/credits.ts'
import { createSignedUrlService, type SignedUrlService } from './services/access/signed-urls.ts'
import { createWorkspaceService, type WorkspaceService } from './services/access/workspaces.ts'
import { type AssetService, createAssetService } from './services/assets.ts'
import {
  createGenerationPipeline,
  type GenerationPipeline,
} from './services/generation/pipeline.ts'
import type { ProviderRuntime } from './services/generation/types.ts'
import { createJobs, type Jobs } from './services/jobs/jobs.ts'
import {
  blobStoreProbe,
  checkBackendsAtStart,
  databaseProbe,
  type ReadinessProbe,
  redisProbe,
} from './services/readiness.ts'
import { createWebhookRecovery } from './services/webhook-recovery.ts'
import { createWebhookService, type WebhookService } from './services/webhooks.ts'
import type { BlobStore } from './storage/blob-store.ts'
import {
  type ConfiguredBlobStore,
  createConfiguredBlobStore,
} from './storage/configured-blob-store.ts'
import { createWebhookDispatcher, type WebhookDispatcher } from './webhooks/dispatcher.ts'
import type { FinishedGeneration } from './webhooks/events.ts'
import { sendWebhook } from './webhooks/send.ts'
import { newWebhookSecret } from './webhooks/signature.ts'
import type { WebhookStore } from './webhooks/store.ts'
import { type Resolve, systemResolve } from './webhooks/target.ts'

export const DEFAULT_WORKSPACE_ID = BOOTSTRAP_WORKSPACE_ID
/** Where the secret that signs asset URLs lives, in the data dir. */
export const URL_SIGNING_KEY_FILE = 'url-signing-key'
/** How long the start-up check waits for each backend (a cold DNS lookup, a TLS handshake). */
export const START_CHECK_TIMEOUT_MS = 10_000
/** How long a webhook host may take to resolve, at registration and before each attempt. */
const WEBHOOK_DNS_TIMEOUT_MS = 5_000
/** How often an idle webhook dispatcher looks for due deliveries written by other instances. */
const WEBHOOK_POLL_MS = 1_000
/** Housekeeping of idempotency records and crashed requests' credit holds. */
const ACCESS_MAINTENANCE_INTERVAL_MS = 60_000
/** What the periodic recovery of webhook announcements leaves to the normal path still writing it. */
const ANNOUNCEMENT_RECOVERY_GRACE_MS = 10_000

/** The error of a generation that was running when its process stopped. */
const INTERRUPTED = {
  code: 'internal_error',
  message:
    'imagegate stopped before this generation finished; the provider may have been called, ' +
    'but no credits were charged',
}

/** Everything a route or service needs, built once in main.ts and passed down. */
export type AppDeps = {
  config: Config
  /** Every storage port, on the configured database. */
  store: Store
  log: Logger
  metrics: HttpMetrics
  clock: Clock
  ids: IdGenerator
  blobs: BlobStore
  assets: AssetService
  catalog: Catalog
  /** The one path of a generation: prepare, hold credits, dispatch, store, record, settle. */
  generation: GenerationPipeline
  generationsRepo: GenerationsRepository
  /** Asynchronous generations: accept, cancel, and the worker main.ts starts and stops. */
  jobs: Jobs
  /** Requests whose handler is still running; shutdown waits for them. */
  inFlight: InFlightRequests
  workspaces: WorkspaceService
  apiKeys: ApiKeyService
  credits: CreditService
  rateLimiter: RateLimiter
  authFailures: AuthFailureLimiter
  /** The connection the limiters share their state on (IMAGEGATE_REDIS_URL), once connected. */
  redis: Redis | undefined
  /** Who a request comes from, for the failed-authentication limit (config.trustedProxies). */
  clientAddressOf: ClientAddressOf
  idempotency: Idempotency
  /** How long an Idempotency-Key claim holds its key (longer than any generation may run). */
  idempotencyLeaseMs: number
  signedUrls: SignedUrlService
  /** Webhook endpoints, the request-level signing secret, and announcing finished generations. */
  webhooks: WebhookService
  /** Sends the outbox's due deliveries; main.ts starts it, tests drive it with `runDue`. */
  webhookDispatcher: WebhookDispatcher
  /** The admin key this start created (a database without one); main.ts prints it once. */
  bootstrap: Bootstrapped | undefined
  /** One probe per configured backend, for /readyz (services/readiness.ts). */
  readiness: ReadinessProbe[]
  /** Runs every probe once; throws BackendsUnavailableError naming those that fail. */
  checkBackends(): Promise<void>
  /**
   * Marks generations still `running` (or `queued`) that no job owns and no live process can
   * still be running as failed (see below); answers how many.
   */
  failInterruptedGenerations(when: 'start-up' | 'shutdown' | 'sweep'): Promise<number>
  /** Start-up maintenance (temp sweep, first GC) and the periodic GC timer. */
  startMaintenance(): Promise<void>
  close(): Promise<void>
}

export type DepsOverrides = Partial<
  Pick<AppDeps, 'log' | 'clock' | 'ids' | 'metrics' | 'blobs' | 'redis'>
> & {
  databaseFile?: string
  /** Upstream HTTP (tests inject a recording fake). */
  fetch?: Fetch
  /** Replaces the built-in adapters, e.g. with a scripted provider in tests. */
  providers?: Partial<Record<ProviderName, ImageProvider>>
  random?: Random
  sleep?: Sleep
  /** The resolver webhook targets are checked with (tests map names to the addresses they like). */
  webhookResolve?: Resolve
  /** The configured store, built and checked by main.ts before the data dir is touched. */
  blobStore?: ConfiguredBlobStore
  /** The PostgreSQL pool main.ts opened and migrated (IMAGEGATE_DATABASE_URL); closed by `close`. */
  postgres?: Postgres
}

/** How long a key's lookup is kept per instance on a shared database: a revocation elsewhere
 * takes at most this long to reach this instance. */
const SHARED_KEY_CACHE_MS = 5_000

/** The metadata store and what lives beside it on the same database. */
type Metadata = { store: Store; queue: JobQueue; webhookStore: WebhookStore }

/**
 * PostgreSQL when main.ts opened one (every instance shares it), else SQLite in the data dir.
 * The job queue and the webhook outbox live in the same database as the generations they
 * belong to.
 */
function openMetadata(
  config: Config,
  overrides: DepsOverrides,
  clock: Clock,
  ids: IdGenerator,
  log: Logger,
): Metadata {
  if (overrides.postgres) {
    const { pool } = overrides.postgres
    return {
      store: createPgStore(overrides.postgres, {
        clock,
        newId: () => ids('rsv'),
        onPinError: (err, during) => log.warn({ err, during }, 'blob pin not renewed or released'),
      }),
      queue: createPgJobQueue(pool, { newId: () => ids('rsv') }),
      webhookStore: createPgWebhookStore(pool),
    }
  }
  const database = openDatabase(overrides.databaseFile ?? path.join(config.dataDir, 'imagegate.db'))
  const store = createSqliteStore(database, { clock, newId: () => ids('rsv') })
  return {
    store,
    queue: createSqliteJobQueue(database.durable, store.ledger),
    // The outbox shares the generations' connection.
    webhookStore: createSqliteWebhookStore(database.db),
  }
}

/**
 * Keep-alive pools for upstream calls (undici's `request`, see createPooledFetch). The request
 * deadline (an AbortSignal) bounds each call; undici's own header/body timeouts are set above
 * the longest model deadline so they never cut a slow image short.
 */
function createUpstreamFetch(): { fetch: Fetch; close(): Promise<void> } {
  return createPooledFetch({
    connections: 64,
    keepAliveTimeout: 30_000,
    headersTimeout: 600_000,
    bodyTimeout: 600_000,
    connect: { timeout: 10_000 },
  })
}

export async function createDeps(config: Config, overrides: DepsOverrides = {}): Promise<AppDeps> {
  mkdirSync(config.dataDir, { recursive: true })
  const clock = overrides.clock ?? systemClock
  const log = overrides.log ?? createLogger(config)
  const ids = overrides.ids ?? createIdGenerator(clock)
  const { store, queue, webhookStore } = openMetadata(config, overrides, clock, ids, log)
  const { ledger } = store
  /** Several instances share the database: nothing read from it may be kept for long. */
  const shared = store.kind === 'postgres'

  const credits = createCreditService(ledger)
  const workspaces = createWorkspaceService({ repo: store.workspaces, credits, ids, clock })
  const apiKeys = createApiKeyService({
    repo: store.apiKeys,
    workspaces,
    ids,
    clock,
    randomBytes: (size) => randomBytes(size),
    defaultKeyLimits: config.rateLimits.key,
    workspaceLimits: config.rateLimits.workspace,
    ...(shared ? { cacheTtlMs: SHARED_KEY_CACHE_MS } : {}),
  })
  const bootstrap = await bootstrapAccess({
    repo: store.bootstrap,
    ids,
    clock,
    randomBytes: (size) => randomBytes(size),
    dataDir: config.dataDir,
    initialCredits: config.bootstrapCredits,
    keyLimits: config.rateLimits.key,
    adminKey: config.bootstrapAdminKey,
  })

  const blobStore = overrides.blobs
    ? { store: overrides.blobs, description: 'the blob store given', close() {} }
    : (overrides.blobStore ?? createConfiguredBlobStore(config, clock))
  const blobs = blobStore.store
  const assets = createAssetService({
    repo: store.assets,
    blobs,
    pins: store.pins,
    ids,
    clock,
    log,
    limits: { maxUploadBytes: config.maxUploadBytes, maxPixels: config.maxPixels },
    // Another instance may delete a row this one kept.
    cacheRows: !shared,
  })

  const upstream = overrides.fetch ? undefined : createUpstreamFetch()
  const fetch = overrides.fetch ?? (upstream as { fetch: Fetch }).fetch
  const adapters: Partial<Record<ProviderName, ImageProvider>> = {
    local: overrides.providers?.local ?? createLocalProvider(),
  }
  if (config.openai.apiKey || overrides.providers?.openai) {
    adapters.openai =
      overrides.providers?.openai ??
      createOpenAIProvider({
        baseUrl: config.openai.baseUrl,
        apiKey: config.openai.apiKey ?? '',
        fetch,
        clock,
      })
  }
  if (config.gemini.apiKey || overrides.providers?.gemini) {
    adapters.gemini =
      overrides.providers?.gemini ??
      createGeminiProvider({
        baseUrl: config.gemini.baseUrl,
        apiKey: config.gemini.apiKey ?? '',
        fetch,
        clock,
      })
  }
  const providers = new Map<ProviderName, ProviderRuntime>()
  for (const [name, provider] of Object.entries(adapters) as [ProviderName, ImageProvider][]) {
    providers.set(name, {
      provider,
      breaker: createCircuitBreaker({ provider: name, clock }),
      budget: createRetryBudget({ clock }),
    })
  }
  const catalog = loadCatalog(config, new Set(providers.keys()))
  const metrics = overrides.metrics ?? createMetrics({ defaultMetrics: true })
  const generationsRepo = store.generations

  const webhookPolicy = {
    allowLoopback: config.webhooks.allowLoopback,
    resolve: overrides.webhookResolve ?? systemResolve(WEBHOOK_DNS_TIMEOUT_MS),
  }
  const webhookDispatcher = createWebhookDispatcher({
    store: webhookStore,
    clock,
    random: overrides.random ?? Math.random,
    policy: webhookPolicy,
    send: sendWebhook,
    newAttemptId: () => ids('wha'),
    log,
    concurrency: config.webhooks.concurrency,
    attemptTimeoutMs: config.webhooks.attemptTimeoutMs,
    // An attempt takes at most the DNS timeout and its own; the margin covers a busy event loop.
    leaseMs: WEBHOOK_DNS_TIMEOUT_MS + config.webhooks.attemptTimeoutMs + 30_000,
    pollMs: WEBHOOK_POLL_MS,
  })
  const webhooks = createWebhookService({
    store: webhookStore,
    workspaces,
    ids,
    clock,
    policy: webhookPolicy,
    newSecret: () => newWebhookSecret(),
    onEnqueued: () => webhookDispatcher.notify(),
  })
  /**
   * The generation's record is final already: a failure to write its deliveries is logged,
   * not turned into a failed answer for an image that was made, stored and is being charged;
   * the recovery pass (run with the access maintenance) writes it later.
   */
  const announce = (finished: FinishedGeneration) =>
    webhooks.announce(finished).catch((err: unknown) => {
      log.error({ err, generationId: finished.id }, 'webhook deliveries not written')
    })
  const webhookRecovery = createWebhookRecovery(
    {
      store: webhookStore,
      generationsRepo,
      assetsRepo: store.assets,
      queue,
      announce: webhooks.announce,
      clock,
      log,
    },
    { batchSize: 20, maxPerPass: 200 },
  )
  const generation = createGenerationPipeline({
    catalog,
    providers,
    mockImages: config.mockImages,
    assets,
    repo: generationsRepo,
    ids,
    clock,
    random: overrides.random ?? Math.random,
    sleep: overrides.sleep ?? systemSleep,
    metrics,
    ledger,
    newReference: () => ids('att'),
    checkWebhookUrl: webhooks.checkUrl,
    announce,
  })

  // main.ts passes the connection it checked at start; opened here it still needs connectRedis.
  const redis = overrides.redis ?? (config.redis ? openRedis(config.redis.url) : undefined)
  const localLimits = createMemoryGcraStore({ clock })
  const limiterStore: GcraStore =
    redis && config.redis
      ? withLocalFallback(
          createRedisGcraStore({ redis, keyPrefix: config.redis.keyPrefix }),
          localLimits,
          { log, onLocalDecision: () => metrics.localLimiterDecisions.inc() },
        )
      : localLimits
  const jobs = createJobs(
    {
      catalog,
      repo: generationsRepo,
      generationsRepo,
      ids,
      clock,
      metrics,
      mockImages: config.mockImages,
      generation,
      queue,
      log,
      assetsRepo: store.assets,
      announce,
    },
    {
      concurrency: config.jobs.concurrency,
      perWorkspace: config.jobs.workspaceConcurrency,
      leaseMs: config.jobs.leaseMs,
      heartbeatMs: Math.max(100, Math.floor(config.jobs.leaseMs / 3)),
    },
  )

  const idempotencyLeaseMs =
    config.idempotencyLeaseMs ??
    Math.max(...catalog.models.map((model) => model.timeoutMs)) + 60_000
  const idempotency = createIdempotency({
    store: store.idempotency,
    clock,
    newToken: () => ids('att'),
    leaseMs: idempotencyLeaseMs,
  })
  const signedUrls = createSignedUrlService({
    secret:
      config.urlSigningSecret === undefined
        ? readOrCreateSecret(path.join(config.dataDir, URL_SIGNING_KEY_FILE))
        : Buffer.from(config.urlSigningSecret, 'utf8'),
    clock,
    ttlSeconds: config.signedUrlTtlSeconds,
    assetWorkspace: (assetId) => store.assets.workspaceOf(assetId),
  })
  /**
   * Expired idempotency records go; credit holds older than the lease are released: their
   * request crashed (no live attempt can own a hold that old), and a retry would have taken the
   * key over and released them already.
   */
  const accessMaintenance = async (recoveryGraceMs = ANNOUNCEMENT_RECOVERY_GRACE_MS) => {
    try {
      const purged = await idempotency.purgeExpired()
      const released = await ledger.releaseStale(
        new Date(clock.now().getTime() - idempotencyLeaseMs),
      )
      if (purged > 0 || released > 0) {
        log.info({ purged, released }, 'access maintenance')
      }
      if (shared) {
        await failInterruptedGenerations('sweep')
      }
    } catch (err) {
      log.error({ err }, 'access maintenance failed')
    }
    // After the sweep: the generations it closed are announced as failed.
    await webhookRecovery
      .run(recoveryGraceMs)
      .catch((err: unknown) => log.error({ err }, 'webhook announcement recovery failed'))
  }
  let accessTimer: NodeJS.Timeout | undefined

  /**
   * Marks generations still `running` (or `queued`) that no job owns as failed, and answers how
   * many it marked; their holds go back with the stale-hold sweep. A generation an unfinished
   * job owns is left to the job queue: its lease runs out and a worker takes it over.
   *
   * On SQLite this process is the file's only user, so at start-up (before serving) every such
   * row was left by a process that stopped without finishing it, and at shutdown past the grace
   * period every such row was cut short. On a shared database the other instances' rows are
   * live: only rows older than the longest a generation may run (the idempotency lease) are
   * marked, at start-up and by the periodic sweep, so one instance's cut-short generations are
   * marked by whichever instance sweeps next.
   */
  async function failInterruptedGenerations(
    when: 'start-up' | 'shutdown' | 'sweep',
  ): Promise<number> {
    const now = clock.now()
    let count: number
    if (!shared) {
      count =
        when === 'sweep' ? 0 : await generationsRepo.failRunning(INTERRUPTED, now.toISOString())
    } else if (when === 'shutdown') {
      count = 0
    } else {
      const createdBefore = new Date(now.getTime() - idempotencyLeaseMs).toISOString()
      count = await generationsRepo.failRunning(INTERRUPTED, now.toISOString(), { createdBefore })
    }
    if (count > 0) {
      log.warn({ count, when }, 'generations that did not finish marked failed')
    }
    return count
  }

  const readiness: ReadinessProbe[] = [
    databaseProbe(store),
    {
      name: 'dataDir',
      target: config.dataDir,
      check: () => accessSync(config.dataDir, constants.R_OK | constants.W_OK),
    },
    blobStoreProbe(blobs, blobStore.description),
    ...(redis ? [redisProbe(redis)] : []),
  ]

  let gcTimer: NodeJS.Timeout | undefined
  let gcRunning = false
  const runGc = async () => {
    // A pass that outlasts the interval must not overlap the next one.
    if (gcRunning) {
      return
    }
    gcRunning = true
    try {
      const result = await assets.collectGarbage(config.gcGraceMs)
      if (result.deleted.length > 0) {
        log.info({ scanned: result.scanned, deleted: result.deleted.length }, 'blob GC')
      }
    } catch (err) {
      log.error({ err }, 'blob GC failed')
    } finally {
      gcRunning = false
    }
  }

  return {
    config,
    store,
    log,
    metrics,
    clock,
    ids,
    blobs,
    assets,
    catalog,
    generation,
    generationsRepo,
    jobs,
    inFlight: createInFlightRequests(),
    failInterruptedGenerations,
    workspaces,
    apiKeys,
    credits,
    rateLimiter: createRateLimiter({ store: limiterStore }),
    authFailures: createAuthFailureLimiter({
      store: limiterStore,
      limits: { maxFailures: config.authFailuresPerMinute, windowMs: 60_000 },
    }),
    redis,
    clientAddressOf: clientAddressOf(config.trustedProxies),
    idempotency,
    idempotencyLeaseMs,
    signedUrls,
    webhooks,
    webhookDispatcher,
    bootstrap,
    readiness,
    checkBackends: () => checkBackendsAtStart(readiness, START_CHECK_TIMEOUT_MS),
    async startMaintenance() {
      // No write of this process is in flight yet, so every temp file is a leftover of a crash.
      const swept = await blobs.sweepTempFiles(0)
      if (swept > 0) {
        log.info({ swept }, 'removed temp files left by an earlier crash')
      }
      // Nothing of this process is announcing yet: every owed announcement is recovered.
      await accessMaintenance(0)
      accessTimer = setInterval(
        () => void accessMaintenance(),
        Math.min(ACCESS_MAINTENANCE_INTERVAL_MS, idempotencyLeaseMs),
      )
      accessTimer.unref()
      await runGc()
      if (config.gcIntervalMs > 0) {
        gcTimer = setInterval(() => void runGc(), config.gcIntervalMs)
        gcTimer.unref()
      }
    },
    async close() {
      if (gcTimer) {
        clearInterval(gcTimer)
      }
      if (accessTimer) {
        clearInterval(accessTimer)
      }
      await jobs.worker.stop(0)
      // Attempts in flight are recorded before the database closes.
      await webhookDispatcher.stop()
      // The database first: a provider call still in flight now was cut short by a shutdown,
      // and is recorded as such (failInterruptedGenerations), not as the transport error its
      // abort below would make it record.
      await store.close()
      await upstream?.close()
      await redis?.quit().catch(() => redis.disconnect())
      blobStore.close()
    },
  }
}
