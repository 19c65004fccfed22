import path from 'node:path'
import { drizzle } from 'drizzle-orm/node-postgres'
import { migrate } from 'drizzle-orm/node-postgres/migrator'
import type { Pool, PoolClient } from 'pg'

/** Where drizzle-kit writes the PostgreSQL migrations (drizzle.pg.config.ts). */
export const pgMigrationsFolder = path.resolve(import.meta.dirname, '../../drizzle-pg')

/**
 * The advisory lock every imagegate instance takes around its migrations: one 64-bit key, the
 * bytes of "imgmigr1". Advisory locks live per database, so instances on different databases
 * of one server do not wait on each other.
 */
export const MIGRATION_LOCK_KEY = 0x696d_676d_6967_7231n

/** drizzle's bookkeeping table (its default), which says which migrations ran. */
const MIGRATIONS_TABLE = 'drizzle.__drizzle_migrations'

export type PgMigrateOptions = {
  /** Give up (and fail the start) when another instance holds the lock longer. Default 60 s. */
  lockTimeoutMs?: number
  migrationsFolder?: string
}

export type PgMigrateResult = {
  /** Migrations this call applied; 0 when another instance had applied them all already. */
  applied: number
}

async function appliedCount(client: PoolClient): Promise<number> {
  const table = await client.query<{ exists: boolean }>(
    `SELECT to_regclass('${MIGRATIONS_TABLE}') IS NOT NULL AS exists`,
  )
  if (!table.rows[0]?.exists) {
    return 0
  }
  const count = await client.query<{ count: string }>(`SELECT count(*) FROM ${MIGRATIONS_TABLE}`)
  return Number(count.rows[0]?.count ?? 0)
}

/**
 * Applies the committed PostgreSQL migrations once, however many instances start together.
 * Each takes the session-level advisory lock on one connection, runs drizzle's migrator on that
 * same connection, and lets go: the first applies every migration in one transaction, the rest
 * wait for it, then find nothing left to do. Without the lock two instances would both see an
 * empty database and race to create the same tables. A session lock (not a transaction lock)
 * because drizzle's migrator opens its own transaction; it is released explicitly, and by the
 * server if the connection drops.
 */
export async function migratePostgres(
  pool: Pool,
  options: PgMigrateOptions = {},
): Promise<PgMigrateResult> {
  const client = await pool.connect()
  let locked = false
  let broken = false
  try {
    // The timeout covers only the wait for the lock; the migrations themselves run without it.
    await client.query(`SET lock_timeout = ${Math.max(1, options.lockTimeoutMs ?? 60_000)}`)
    await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_KEY.toString()])
    locked = true
    await client.query('RESET lock_timeout')
    const before = await appliedCount(client)
    await migrate(drizzle({ client }), {
      migrationsFolder: options.migrationsFolder ?? pgMigrationsFolder,
    })
    return { applied: (await appliedCount(client)) - before }
  } catch (error) {
    broken = true
    throw error
  } finally {
    if (locked) {
      await client
        .query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY.toString()])
        .catch(() => {
          broken = true
        })
    }
    // A connection that failed mid-way may be in an unknown state: close it rather than reuse it.
    client.release(broken)
  }
}
