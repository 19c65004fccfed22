import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import Sqlite from 'better-sqlite3'
import { createSqliteLedger } from '../../access/sqlite-ledger.ts'
import { systemClock } from '../../ids.ts'
import { openDatabase } from '../client.ts'
import { createSqliteJobQueue } from './sqlite-job-queue.ts'
import { describeJobQueue } from './testing/job-queue-suite.ts'
import { insertGenerationSql } from './testing/rows.ts'

describeJobQueue('SQLite', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'imagegate-jobs-'))
  const file = path.join(dir, 'imagegate.db')
  const database = openDatabase(file)
  const connections: Sqlite.Database[] = []
  let reservations = 0
  const newId = () => `rsv_${++reservations}`
  const ledger = createSqliteLedger(database.sqlite, { clock: systemClock, newId })
  return {
    async open() {
      const connection = new Sqlite(file, { timeout: 5000 })
      connection.pragma('journal_mode = WAL')
      connections.push(connection)
      return createSqliteJobQueue(
        connection,
        createSqliteLedger(connection, { clock: systemClock, newId }),
      )
    },
    ledger,
    async addWorkspace(workspaceId, credits) {
      database.sqlite.prepare(insertGenerationSql('?').workspace).run(workspaceId)
      await ledger.ensureAccount(workspaceId)
      if (credits > 0) {
        await ledger.grant(workspaceId, credits)
      }
    },
    async generationStatus(generationId) {
      const row = database.sqlite
        .prepare('SELECT status FROM generations WHERE id = ?')
        .get(generationId) as { status: string } | undefined
      return row?.status
    },
    async addGeneration(workspaceId, generationId) {
      const { workspace, generation } = insertGenerationSql('?')
      database.sqlite.prepare(workspace).run(workspaceId)
      database.sqlite.prepare(generation).run(generationId, workspaceId)
    },
    async close() {
      for (const connection of connections) {
        connection.close()
      }
      database.close()
      rmSync(dir, { recursive: true, force: true })
    },
  }
})
