import pg from 'pg'
import { afterAll, beforeAll } from 'vitest'
import { createTestDatabase, type TestDatabase } from '../../testing/postgres.ts'
import { describeWebhookStore } from '../../webhooks/testing/describe-webhook-store.ts'
import { migratePostgres } from '../pg-migrate.ts'
import { createPgWebhookStore } from './webhooks-pg.ts'

let database: TestDatabase
beforeAll(async () => {
  database = await createTestDatabase()
  const pool = new pg.Pool({ connectionString: database.url, max: 1 })
  await migratePostgres(pool)
  await pool.end()
})
afterAll(async () => {
  await database?.drop()
})

let workspaceCount = 0

describeWebhookStore('PostgreSQL', async () => {
  // Two pools, as two instances would have; a fresh workspace per test keeps tests apart.
  const pools = [0, 1].map(() => new pg.Pool({ connectionString: database.url, max: 4 }))
  const [first, second] = pools as [pg.Pool, pg.Pool]
  workspaceCount += 1
  const workspaceId = `ws_hooks${workspaceCount}`
  await first.query(
    `DELETE FROM webhook_deliveries; INSERT INTO workspaces (id, name, created_at) VALUES ('${workspaceId}', 'hooks', 't')`,
  )
  return {
    stores: [createPgWebhookStore(first), createPgWebhookStore(second)],
    workspaceId,
    async close() {
      await Promise.all(pools.map((pool) => pool.end()))
    },
  }
})
