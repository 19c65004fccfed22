import pg from 'pg'
import { createPgLedger } from '../../access/pg-ledger.ts'
import { systemClock } from '../../ids.ts'
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
  let reservations = 0
  const newId = () => `rsv_${++reservations}`
  const ledger = createPgLedger(admin, { clock: systemClock, newId })
  return {
    async open() {
      const pool = new pg.Pool({ connectionString: database.url, max: 4 })
      pools.push(pool)
      return createPgJobQueue(pool, { newId })
    },
    ledger,
    async addWorkspace(workspaceId, credits) {
      await admin.query(workspace, [workspaceId])
      await ledger.ensureAccount(workspaceId)
      if (credits > 0) {
        await ledger.grant(workspaceId, credits)
      }
    },
    async generationStatus(generationId) {
      const { rows } = await admin.query<{ status: string }>(
        'SELECT status FROM generations WHERE id = $1',
        [generationId],
      )
      return rows[0]?.status
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
