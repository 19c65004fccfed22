import pg from 'pg'
import { createTestDatabase } from '../../testing/postgres.ts'
import { migratePostgres } from '../pg-migrate.ts'
import { createPgJobQueue } from './pg-job-queue.ts'
import { describeJobQueue } from './testing/job-queue-suite.ts'
import { insertGenerationSql } from './testing/rows.ts'

describeJobQueue('PostgreSQL', async () => {
  const database = await createTestDatabase()
  const admin = new pg.Pool({ connectionString: database.url, max: 2 })
  await migratePostgres(admin)
  const pools: pg.Pool[] = [admin]
  const { workspace, generation } = insertGenerationSql('$')
  return {
    async open() {
      const pool = new pg.Pool({ connectionString: database.url, max: 4 })
      pools.push(pool)
      return createPgJobQueue(pool)
    },
    async addGeneration(workspaceId, generationId) {
      await admin.query(workspace, [workspaceId])
      await admin.query(generation, [generationId, workspaceId])
    },
    async close() {
      await Promise.all(pools.map((pool) => pool.end()))
      await database.drop()
    },
  }
})
