import { accessSync, constants, mkdirSync } from 'node:fs'
import path from 'node:path'
import type { Logger } from 'pino'
import { Agent, fetch as undiciFetch } from 'undici'
import { type Catalog, loadCatalog } from './catalog/catalog.ts'
import type { Config } from './config.ts'
import { type Database, openDatabase } from './db/client.ts'
import { createAssetsRepository } from './db/repositories/assets.ts'
import {
  createGenerationsRepository,
  type GenerationsRepository,
} from './db/repositories/generations.ts'
import { ensureWorkspace } from './db/repositories/workspaces.ts'
import { createMetrics, type HttpMetrics } from './http/metrics.ts'
import { type Clock, createIdGenerator, type IdGenerator, systemClock } from './ids.ts'
import { createLogger } from './logger.ts'
import { createGeminiProvider } from './providers/gemini.ts'
import type { Fetch } from './providers/http-errors.ts'
import { createLocalProvider } from './providers/local.ts'
import { createOpenAIProvider } from './providers/openai.ts'
import type { Random } from './providers/resilience/backoff.ts'
import { createCircuitBreaker } from './providers/resilience/circuit-breaker.ts'
import { createRetryBudget } from './providers/resilience/retry-budget.ts'
import { type Sleep, systemSleep } from './providers/resilience/sleep.ts'
import type { ImageProvider, ProviderName } from './providers/types.ts'
import { type AssetService, createAssetService } from './services/assets.ts'
import { createBlobPins } from './services/blob-pins.ts'
import {
  createGenerationService,
  type GenerationService,
  type ProviderRuntime,
} from './services/generation/generate.ts'
import type { BlobStore } from './storage/blob-store.ts'
import { createFsBlobStore } from './storage/fs-blob-store.ts'

export const DEFAULT_WORKSPACE_ID = 'default'

/** Everything a route or service needs, built once in main.ts and passed down. */
export type AppDeps = {
  config: Config
  database: Database
  log: Logger
  metrics: HttpMetrics
  clock: Clock
  ids: IdGenerator
  blobs: BlobStore
  assets: AssetService
  catalog: Catalog
  generations: GenerationService
  generationsRepo: GenerationsRepository
  /** Readiness probes beyond the database: each throws when its resource is unusable. */
  checkDataDir(): void
  /** Start-up maintenance (temp sweep, first GC) and the periodic GC timer. */
  startMaintenance(): Promise<void>
  close(): Promise<void>
}

export type DepsOverrides = Partial<
  Pick<AppDeps, 'log' | 'clock' | 'ids' | 'metrics' | 'blobs'>
> & {
  databaseFile?: string
  /** Upstream HTTP (tests inject a recording fake). */
  fetch?: Fetch
  /** Replaces the built-in adapters, e.g. with a scripted provider in tests. */
  providers?: Partial<Record<ProviderName, ImageProvider>>
  random?: Random
  sleep?: Sleep
}

/**
 * Keep-alive pools for upstream calls. The request deadline (an AbortSignal) bounds each call;
 * undici's own header/body timeouts are set above the longest model deadline so they never cut
 * a slow image short.
 */
function createUpstreamFetch(): { fetch: Fetch; close(): Promise<void> } {
  const agent = new Agent({
    connections: 64,
    keepAliveTimeout: 30_000,
    headersTimeout: 600_000,
    bodyTimeout: 600_000,
    connect: { timeout: 10_000 },
  })
  return {
    fetch: (url, init) =>
      undiciFetch(url, { ...(init as object), dispatcher: agent }) as unknown as Promise<Response>,
    close: () => agent.close(),
  }
}

export function createDeps(config: Config, overrides: DepsOverrides = {}): AppDeps {
  mkdirSync(config.dataDir, { recursive: true })
  const clock = overrides.clock ?? systemClock
  const log = overrides.log ?? createLogger(config)
  const ids = overrides.ids ?? createIdGenerator(clock)
  const database = openDatabase(overrides.databaseFile ?? path.join(config.dataDir, 'imagegate.db'))
  ensureWorkspace(database.db, {
    id: DEFAULT_WORKSPACE_ID,
    name: 'Default',
    createdAt: clock.now(),
  })

  const blobs =
    overrides.blobs ?? createFsBlobStore({ root: path.join(config.dataDir, 'blobs'), clock })
  const assetsRepo = createAssetsRepository(database.db)
  const assets = createAssetService({
    repo: assetsRepo,
    blobs,
    pins: createBlobPins(),
    ids,
    clock,
    log,
    limits: { maxUploadBytes: config.maxUploadBytes, maxPixels: config.maxPixels },
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
  const generationsRepo = createGenerationsRepository(database.db)
  const generations = createGenerationService({
    catalog,
    providers,
    mockImages: config.mockImages,
    assets,
    repo: generationsRepo,
    ids,
    clock,
    random: overrides.random ?? Math.random,
    sleep: overrides.sleep ?? systemSleep,
    log,
    metrics,
  })

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
    database,
    log,
    metrics,
    clock,
    ids,
    blobs,
    assets,
    catalog,
    generations,
    generationsRepo,
    checkDataDir() {
      accessSync(config.dataDir, constants.R_OK | constants.W_OK)
    },
    async startMaintenance() {
      // No write of this process is in flight yet, so every temp file is a leftover of a crash.
      const swept = await blobs.sweepTempFiles(0)
      if (swept > 0) {
        log.info({ swept }, 'removed temp files left by an earlier crash')
      }
      await runGc()
      if (config.gcIntervalMs > 0) {
        gcTimer = setInterval(runGc, config.gcIntervalMs)
        gcTimer.unref()
      }
    },
    async close() {
      if (gcTimer) {
        clearInterval(gcTimer)
      }
      await upstream?.close()
      database.close()
    },
  }
}
