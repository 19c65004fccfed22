import { readFileSync } from 'node:fs'
import path from 'node:path'
import { getTableName } from 'drizzle-orm'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createTestDatabase, type TestDatabase } from '../testing/postgres.ts'
import { MIGRATION_LOCK_KEY, migratePostgres, pgMigrationsFolder } from './pg-migrate.ts'
import * as pgSchema from './pg-schema/index.ts'

const journal = JSON.parse(
  readFileSync(path.join(pgMigrationsFolder, 'meta/_journal.json'), 'utf8'),
) as { entries: unknown[] }

let database: TestDatabase
const pools: pg.Pool[] = []

function newPool(): pg.Pool {
  const pool = new pg.Pool({ connectionString: database.url, max: 2 })
  pools.push(pool)
  return pool
}

beforeAll(async () => {
  database = await createTestDatabase()
})

afterAll(async () => {
  await Promise.all(pools.map((pool) => pool.end()))
  await database?.drop()
})

async function tablesIn(pool: pg.Pool): Promise<string[]> {
  const result = await pool.query<{ table_name: string }>(
    "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY 1",
  )
  return result.rows.map((row) => row.table_name)
}

describe('migratePostgres', () => {
  it('lets ten instances starting at once apply the migrations exactly once', async () => {
    const results = await Promise.all(
      Array.from({ length: 10 }, () => migratePostgres(newPool(), { lockTimeoutMs: 30_000 })),
    )
    const applied = results.map((result) => result.applied)
    expect(applied.filter((count) => count > 0)).toEqual([journal.entries.length])
    expect(applied.reduce((sum, count) => sum + count, 0)).toBe(journal.entries.length)

    const pool = newPool()
    const recorded = await pool.query('SELECT hash FROM drizzle.__drizzle_migrations')
    expect(recorded.rowCount).toBe(journal.entries.length)
    const expectedTables = Object.values(pgSchema).map(getTableName).sort()
    expect(await tablesIn(pool)).toEqual(expectedTables)
    expect(await migratePostgres(pool)).toEqual({ applied: 0 })
  })

  it('gives the schema its constraints, and keeps the ledger append-only', async () => {
    const pool = newPool()
    await migratePostgres(pool)
    await pool.query(
      "INSERT INTO workspaces (id, name, created_at) VALUES ('ws_1', 'one', '2026-01-01T00:00:00.000Z')",
    )
    await expect(
      pool.query(
        "INSERT INTO credit_accounts (workspace_id, balance, updated_at) VALUES ('ws_1', -1, 'now')",
      ),
    ).rejects.toThrow(/credit_accounts_balance/)
    await expect(
      pool.query(
        "INSERT INTO assets (id, workspace_id, kind, media_type, content_hash, size_bytes, folder_path, created_at) VALUES ('ast_1', 'ws_missing', 'image', 'image/png', 'h', 1, '/', 'now')",
      ),
    ).rejects.toThrow(/foreign key/)
    const inserted = await pool.query<{ seq: string }>(
      "INSERT INTO credit_ledger (workspace_id, kind, delta, created_at) VALUES ('ws_1', 'grant', 5000000000, 'now') RETURNING seq",
    )
    expect(inserted.rows[0]?.seq).toBe('1')
    for (const edit of [
      'UPDATE credit_ledger SET delta = 0',
      'DELETE FROM credit_ledger',
      'TRUNCATE credit_ledger',
    ]) {
      await expect(pool.query(edit), edit).rejects.toThrow(/append-only/)
    }
    const body = Buffer.from([0, 1, 2, 255])
    await pool.query(
      "INSERT INTO idempotency_keys (workspace_id, idempotency_key, token, fingerprint, state, created_at_ms, expires_at_ms, response_status, response_body) VALUES ('ws_1', 'k', 't', 'f', 'completed', 1795290374662, 1795290374662, 200, $1)",
      [body],
    )
    const stored = await pool.query<{ response_body: Buffer }>(
      'SELECT response_body FROM idempotency_keys',
    )
    expect(stored.rows[0]?.response_body).toEqual(body)
  })

  it('fails rather than waiting forever when another instance holds the lock', async () => {
    const holder = await newPool().connect()
    try {
      await holder.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_KEY.toString()])
      const started = Date.now()
      await expect(migratePostgres(newPool(), { lockTimeoutMs: 200 })).rejects.toThrow(
        /lock timeout/,
      )
      expect(Date.now() - started).toBeLessThan(5000)
    } finally {
      await holder.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY.toString()])
      holder.release()
    }
  })
})
