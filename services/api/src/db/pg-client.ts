import { drizzle, type NodePgDatabase } from 'drizzle-orm/node-postgres'
import pg from 'pg'
import { migratePostgres, type PgMigrateResult } from './pg-migrate.ts'
import * as pgSchema from './pg-schema/index.ts'

export type PgDb = NodePgDatabase<typeof pgSchema>

export type Postgres = {
  /** Commits wait for their WAL to be flushed (synchronous_commit on, the server's default). */
  pool: pg.Pool
  /**
   * Connections whose commits return before their WAL is flushed (synchronous_commit = off):
   * PostgreSQL's counterpart of the SQLite store's NORMAL connection, for the rows that store
   * keeps there (assets, generations) and for blob pins. A commit is visible to every instance
   * at once and survives any instance's crash; only a crash of the database server itself can
   * lose the last fraction of a second of them (never part of one, never out of order: a later
   * commit on `pool` flushes them all). The ledger, idempotency records, workspaces, keys, jobs
   * and webhooks stay on `pool`.
   */
  asyncCommitPool: pg.Pool
  /** Drizzle over `pool`, typed with the pg-core schema. */
  db: PgDb
  /** What the migrations at open did (0 applied when another instance had run them). */
  migrated: PgMigrateResult
  /** Ends the pool; idempotent. */
  close(): Promise<void>
}

export type OpenPostgresOptions = {
  /** Connections each of the two pools may hold at once (pg.Pool `max`). Default 10. */
  maxConnections?: number
  /** How long a request waits for a connection, or for a new one to open. Default 5 s. */
  connectTimeoutMs?: number
  /** Statements running longer are cancelled by the server. Default: none. */
  statementTimeoutMs?: number
  /** Waiting longer for another instance's migrations fails the open. Default 60 s. */
  migrationLockTimeoutMs?: number
  /** Names this instance in pg_stat_activity. */
  applicationName?: string
}

/**
 * Opens a pool on `url` and applies the committed PostgreSQL migrations (under the advisory lock
 * of pg-migrate.ts, so instances starting together migrate once) before anyone may use it. An
 * idle connection that breaks (a server restart) is reported on the pool's `error` event; pg
 * would otherwise raise it as an uncaught exception and end the process, so it is handed to
 * `onIdleError` instead and the pool replaces the connection on the next checkout.
 */
export async function openPostgres(
  url: string,
  options: OpenPostgresOptions & { onIdleError?: (error: Error) => void } = {},
): Promise<Postgres> {
  const config: pg.PoolConfig = {
    connectionString: url,
    max: options.maxConnections ?? 10,
    connectionTimeoutMillis: options.connectTimeoutMs ?? 5000,
    ...(options.statementTimeoutMs ? { statement_timeout: options.statementTimeoutMs } : {}),
    ...(options.applicationName ? { application_name: options.applicationName } : {}),
  }
  const pool = new pg.Pool(config)
  const asyncCommitPool = new pg.Pool({ ...config, options: '-c synchronous_commit=off' })
  for (const each of [pool, asyncCommitPool]) {
    each.on('error', (error) => options.onIdleError?.(error))
  }
  let closed: Promise<void> | undefined
  const close = () => {
    closed ??= Promise.all([pool.end(), asyncCommitPool.end()]).then(() => undefined)
    return closed
  }
  try {
    const migrated = await migratePostgres(pool, {
      lockTimeoutMs: options.migrationLockTimeoutMs ?? 60_000,
    })
    return {
      pool,
      asyncCommitPool,
      db: drizzle({ client: pool, schema: pgSchema }),
      migrated,
      close,
    }
  } catch (error) {
    await close()
    throw error
  }
}
