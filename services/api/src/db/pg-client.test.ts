import { count } from 'drizzle-orm'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createTestDatabase, type TestDatabase } from '../testing/postgres.ts'
import { openPostgres } from './pg-client.ts'
import { workspaces } from './pg-schema/index.ts'

let database: TestDatabase

beforeAll(async () => {
  database = await createTestDatabase()
})

afterAll(async () => {
  await database?.drop()
})

describe('openPostgres', () => {
  it('migrates once at open and gives a drizzle handle on the pg schema', async () => {
    const first = await openPostgres(database.url, { maxConnections: 2 })
    const second = await openPostgres(database.url, { maxConnections: 2 })
    try {
      expect(first.migrated.applied).toBeGreaterThan(0)
      expect(second.migrated.applied).toBe(0)
      await first.db
        .insert(workspaces)
        .values({ id: 'ws_1', name: 'one', createdAt: '2030-01-01T00:00:00.000Z' })
      const [row] = await second.db.select({ n: count() }).from(workspaces)
      expect(row?.n).toBe(1)
    } finally {
      await first.close()
      await second.close()
      await first.close()
    }
  })

  it('commits on `pool` wait for the WAL flush, on `asyncCommitPool` they do not, and both see each other at once', async () => {
    const postgres = await openPostgres(database.url, { maxConnections: 2 })
    try {
      const setting = async (pool: typeof postgres.pool) =>
        (await pool.query<{ synchronous_commit: string }>('SHOW synchronous_commit')).rows[0]
          ?.synchronous_commit
      expect(await setting(postgres.pool)).toBe('on')
      expect(await setting(postgres.asyncCommitPool)).toBe('off')
      await postgres.asyncCommitPool.query(
        `INSERT INTO workspaces (id, name, created_at) VALUES ('ws_async', 'a', '2030-01-01T00:00:00.000Z')`,
      )
      const seen = await postgres.pool.query("SELECT 1 FROM workspaces WHERE id = 'ws_async'")
      expect(seen.rowCount).toBe(1)
    } finally {
      await postgres.close()
    }
  })

  it('fails the open with the server error for an unreachable database, leaving no pool', async () => {
    const url = new URL(database.url)
    url.pathname = '/imagegate_no_such_database'
    await expect(openPostgres(url.toString())).rejects.toThrow(/does not exist/)
  })
})
