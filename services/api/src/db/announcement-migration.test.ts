import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import Sqlite from 'better-sqlite3'
import { drizzle } from 'drizzle-orm/better-sqlite3'
import { migrate } from 'drizzle-orm/better-sqlite3/migrator'
import pg from 'pg'
import { afterEach, describe, expect, it } from 'vitest'
import { createTestDatabase } from '../testing/postgres.ts'
import { migratePostgres, pgMigrationsFolder } from './pg-migrate.ts'

const sqliteMigrationsFolder = path.resolve(import.meta.dirname, '../../drizzle')
const ANNOUNCEMENTS = 'generation_announcements'

const cleanups: (() => Promise<void> | void)[] = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) {
    await cleanup()
  }
})

/** A copy of a migrations folder that stops before the migration that added `announced_at`. */
function before(folder: string): string {
  const copy = mkdtempSync(path.join(tmpdir(), 'imagegate-migrations-before-'))
  cleanups.push(() => rmSync(copy, { recursive: true, force: true }))
  cpSync(folder, copy, { recursive: true })
  const journalFile = path.join(copy, 'meta/_journal.json')
  const journal = JSON.parse(readFileSync(journalFile, 'utf8')) as {
    entries: { tag: string }[]
  }
  const at = journal.entries.findIndex((entry) => entry.tag.endsWith(ANNOUNCEMENTS))
  expect(at).toBeGreaterThan(0)
  journal.entries = journal.entries.slice(0, at)
  writeFileSync(journalFile, JSON.stringify(journal))
  return copy
}

/** Rows as a database written before the mark existed holds them. */
const GENERATIONS = `INSERT INTO generations (id, workspace_id, status, operation, prompt, prompt_hash,
  model, provider, n, parameters, asset_ids, attempts, warnings, cost_cents, input_asset_ids,
  created_at, finished_at)
  VALUES ($1, 'ws_a', $2, 'generate', 'p', 'h', 'm', 'local', 1, '{}', '[]', '[]', '[]', 0, '[]',
  '2030-01-01T00:00:00.000Z', $3)`
const ROWS: [string, string, string | null][] = [
  ['gen_done', 'succeeded', '2030-01-01T00:00:05.000Z'],
  ['gen_failed', 'failed', '2030-01-01T00:00:06.000Z'],
  ['gen_running', 'running', null],
  // Its record reads failed, but its job is still to be closed (and announced) by a worker.
  ['gen_job', 'failed', '2030-01-01T00:00:07.000Z'],
]
const JOB = `INSERT INTO generation_jobs (generation_id, workspace_id, state, payload, attempts,
  cancel_requested, created_at) VALUES ('gen_job', 'ws_a', 'running', '{}', 1, false, 0)`
const MARKS = 'SELECT id, announced_at FROM generations ORDER BY id'
const EXPECTED = [
  { id: 'gen_done', announced_at: '2030-01-01T00:00:05.000Z' },
  { id: 'gen_failed', announced_at: '2030-01-01T00:00:06.000Z' },
  { id: 'gen_job', announced_at: null },
  { id: 'gen_running', announced_at: null },
]

/**
 * The migration that adds `announced_at` marks what ended before it as announced (it was, or
 * never will be), so the first recovery pass after the upgrade does not announce the last
 * day's generations a second time; what is still running, or still owned by a job, stays owed.
 */
describe('the announced_at migration', () => {
  it('on SQLite, marks the generations that ended before it as announced', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'imagegate-announced-'))
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }))
    const sqlite = new Sqlite(path.join(dir, 'imagegate.db'))
    cleanups.push(() => {
      sqlite.close()
    })
    const db = drizzle({ client: sqlite })
    migrate(db, { migrationsFolder: before(sqliteMigrationsFolder) })
    sqlite.prepare(`INSERT INTO workspaces (id, name, created_at) VALUES ('ws_a', 'a', 't')`).run()
    for (const row of ROWS) {
      sqlite.prepare(GENERATIONS.replace(/\$\d/g, '?')).run(...row)
    }
    sqlite.prepare(JOB.replace('false', '0')).run()
    migrate(db, { migrationsFolder: sqliteMigrationsFolder })
    expect(sqlite.prepare(MARKS).all()).toEqual(EXPECTED)
  })

  it('on PostgreSQL, marks the generations that ended before it as announced', async () => {
    const database = await createTestDatabase()
    cleanups.push(() => database.drop())
    const pool = new pg.Pool({ connectionString: database.url, max: 1 })
    cleanups.push(() => pool.end())
    await migratePostgres(pool, { migrationsFolder: before(pgMigrationsFolder) })
    await pool.query(`INSERT INTO workspaces (id, name, created_at) VALUES ('ws_a', 'a', 't')`)
    for (const row of ROWS) {
      await pool.query(GENERATIONS, row)
    }
    await pool.query(JOB)
    await migratePostgres(pool)
    expect((await pool.query(MARKS)).rows).toEqual(EXPECTED)
  })
})
