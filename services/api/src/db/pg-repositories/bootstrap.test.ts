import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { pgAccessDatabase } from '../../access/testing/pg-access-database.ts'
import { createIdGenerator } from '../../ids.ts'
import { manualClock } from '../../providers/resilience/testing/manual-clock.ts'
import { bootstrapAccess } from '../../services/access/bootstrap.ts'
import { createPgBootstrapRepository } from './bootstrap.ts'

const open: { close(): Promise<void> }[] = []
const dirs: string[] = []
afterEach(async () => {
  await Promise.all(open.splice(0).map((database) => database.close()))
  for (const dir of dirs.splice(0)) {
    rmSync(dir, { recursive: true, force: true })
  }
})

describe('bootstrap on PostgreSQL', () => {
  it('ten instances starting at once on one database: one workspace, one admin key, one grant', async () => {
    const database = await pgAccessDatabase([])
    open.push(database)
    const pools = [database.postgres.pool, (await database.openAnother()).pool]
    const count = async (sql: string) =>
      Number((await database.postgres.pool.query(sql)).rows[0]?.n ?? 0)
    const clock = manualClock(Date.parse('2030-01-01T00:00:00Z'))
    const ids = createIdGenerator(clock)
    const results = await Promise.all(
      Array.from({ length: 10 }, (_, index) => {
        const dataDir = mkdtempSync(path.join(tmpdir(), 'imagegate-pg-bootstrap-'))
        dirs.push(dataDir)
        const pool = pools[index % 2] as (typeof pools)[number]
        return bootstrapAccess({
          repo: createPgBootstrapRepository(pool),
          ids,
          clock,
          randomBytes: (size) => randomBytes(size),
          dataDir,
          initialCredits: 1000,
          keyLimits: { requestsPerMinute: 60, imagesPerMinute: 30 },
        })
      }),
    )
    expect(results.filter((result) => result !== undefined)).toHaveLength(1)
    expect(await count('SELECT COUNT(*) AS n FROM api_keys')).toBe(1)
    expect(await count("SELECT COUNT(*) AS n FROM workspaces WHERE id = 'default'")).toBe(1)
    expect(await count("SELECT COUNT(*) AS n FROM credit_ledger WHERE kind = 'grant'")).toBe(1)
    expect(
      await count("SELECT balance AS n FROM credit_accounts WHERE workspace_id = 'default'"),
    ).toBe(1_000_000)
  })
})
