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

  it('fails the open with the server error for an unreachable database, leaving no pool', async () => {
    const url = new URL(database.url)
    url.pathname = '/imagegate_no_such_database'
    await expect(openPostgres(url.toString())).rejects.toThrow(/does not exist/)
  })
})
