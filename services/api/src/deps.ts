import { accessSync, constants, mkdirSync } from 'node:fs'
import path from 'node:path'
import type { Logger } from 'pino'
import type { Config } from './config.ts'
import { type Database, openDatabase } from './db/client.ts'
import { ensureWorkspace } from './db/repositories/workspaces.ts'
import { createMetrics, type HttpMetrics } from './http/metrics.ts'
import { type Clock, createIdGenerator, type IdGenerator, systemClock } from './ids.ts'
import { createLogger } from './logger.ts'

export const DEFAULT_WORKSPACE_ID = 'default'

/** Everything a route or service needs, built once in main.ts and passed down. */
export type AppDeps = {
  config: Config
  database: Database
  log: Logger
  metrics: HttpMetrics
  clock: Clock
  ids: IdGenerator
  /** Readiness probes beyond the database: each throws when its resource is unusable. */
  checkDataDir(): void
  close(): Promise<void>
}

export type DepsOverrides = Partial<Pick<AppDeps, 'log' | 'clock' | 'ids' | 'metrics'>> & {
  databaseFile?: string
}

export function createDeps(config: Config, overrides: DepsOverrides = {}): AppDeps {
  mkdirSync(config.dataDir, { recursive: true })
  const clock = overrides.clock ?? systemClock
  const database = openDatabase(overrides.databaseFile ?? path.join(config.dataDir, 'imagegate.db'))
  ensureWorkspace(database.db, {
    id: DEFAULT_WORKSPACE_ID,
    name: 'Default',
    createdAt: clock.now(),
  })
  return {
    config,
    database,
    log: overrides.log ?? createLogger(config),
    metrics: overrides.metrics ?? createMetrics({ defaultMetrics: true }),
    clock,
    ids: overrides.ids ?? createIdGenerator(clock),
    checkDataDir() {
      accessSync(config.dataDir, constants.R_OK | constants.W_OK)
    },
    async close() {
      database.close()
    },
  }
}
