import { openPostgres, type Postgres } from '../../db/pg-client.ts'
import { createTestDatabase } from '../../testing/postgres.ts'

export type PgAccessDatabase = {
  postgres: Postgres
  /** Another pool on the same database: a second instance, for races across processes. */
  openAnother(): Promise<Postgres>
  /** Ends every pool and drops the database. */
  close(): Promise<void>
}

/**
 * A fresh PostgreSQL database migrated as the app's, with a `workspaces` row for each of
 * `workspaceIds`: the foreign keys stay on, so the access suites run on the schema exactly as
 * production has it.
 */
export async function pgAccessDatabase(workspaceIds: readonly string[]): Promise<PgAccessDatabase> {
  const database = await createTestDatabase()
  const pools: Postgres[] = []
  const open = async () => {
    const opened = await openPostgres(database.url, { maxConnections: 8 })
    pools.push(opened)
    return opened
  }
  try {
    const postgres = await open()
    await postgres.pool.query(
      `INSERT INTO workspaces (id, name, created_at)
       SELECT id, id, '2030-01-01T00:00:00.000Z' FROM unnest($1::text[]) AS id`,
      [workspaceIds],
    )
    return {
      postgres,
      openAnother: open,
      close: async () => {
        await Promise.all(pools.map((pool) => pool.close()))
        await database.drop()
      },
    }
  } catch (error) {
    await Promise.all(pools.map((pool) => pool.close()))
    await database.drop()
    throw error
  }
}
