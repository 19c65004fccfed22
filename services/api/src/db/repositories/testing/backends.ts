import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { createIdGenerator } from '../../../ids.ts'
import { manualClock } from '../../../providers/resilience/testing/manual-clock.ts'
import { createTestDatabase } from '../../../testing/postgres.ts'
import { openDatabase } from '../../client.ts'
import { openPostgres, type Postgres } from '../../pg-client.ts'
import { createSqliteStore, type SqliteStore } from '../../sqlite-store.ts'

/**
 * The databases the repository contract suites run on: one backend factory per metadata store,
 * so a suite is written once and run with `describe.each(testBackends)`. Every `open()` is a
 * fresh database migrated exactly as the app's (foreign keys on), dropped by `close()`.
 */

/** What an adapter is built on: the SQLite store, or a PostgreSQL pool and its drizzle. */
export type BackendConnection =
  | { kind: 'sqlite'; store: SqliteStore }
  | { kind: 'postgres'; postgres: Postgres }

/** How to build one port's adapter on each backend. */
export type Adapters<T> = {
  sqlite(store: SqliteStore): T
  postgres(postgres: Postgres): T
}

export function adapterOn<T>(connection: BackendConnection, adapters: Adapters<T>): T {
  return connection.kind === 'sqlite'
    ? adapters.sqlite(connection.store)
    : adapters.postgres(connection.postgres)
}

export type OpenBackend = {
  connection: BackendConnection
  /**
   * Runs one statement written with `$1, $2, …` placeholders (the same text serves both
   * dialects) and answers its rows: for fixture rows no port under test writes, and for
   * reading tables directly. Column names are the tables' own (snake_case); values are what
   * the driver answers (node-postgres reads bigint and count(*) as strings).
   */
  run<Row = Record<string, unknown>>(statement: string, params?: unknown[]): Promise<Row[]>
  /** `workspaces` rows (no credit account) for the rows under test to belong to. */
  addWorkspaces(...ids: string[]): Promise<void>
  /** Another instance on the same database: its own connections, as a second process has. */
  openAnother(): Promise<BackendConnection>
  /** Closes every connection and removes the database. */
  close(): Promise<void>
}

const ADD_WORKSPACE = `INSERT INTO workspaces (id, name, created_at) VALUES ($1, $1, $2)`

/** Adds the rows with `run`, one statement each (the same on both backends). */
async function addWorkspacesWith(backend: Pick<OpenBackend, 'run'>, ids: string[]) {
  for (const id of ids) {
    await backend.run(ADD_WORKSPACE, [id, new Date(BACKEND_START_MS).toISOString()])
  }
}

export type OpenOptions = {
  /**
   * PostgreSQL only: the database's default collation from this ICU locale (`en-US`) instead
   * of the server's byte-wise C.UTF-8, for suites that prove they compare text byte-wise.
   */
  pgIcuLocale?: string
}

export type TestBackend = {
  name: 'SQLite' | 'PostgreSQL'
  open(options?: OpenOptions): Promise<OpenBackend>
}

/** The moment the suites' stores start at (their clock moves only when a test moves it). */
export const BACKEND_START_MS = Date.parse('2030-01-01T00:00:00.000Z')

function sqliteStoreOn(file: string): SqliteStore {
  const clock = manualClock(BACKEND_START_MS)
  const newId = createIdGenerator(clock)
  return createSqliteStore(openDatabase(file), { clock, newId: () => newId('rsv') })
}

/** SQLite numbers its placeholders `?NNN`; `$n` may repeat, so each use binds its own value. */
function sqliteStatement(statement: string, params: unknown[]) {
  const bound: unknown[] = []
  const text = statement.replace(/\$(\d+)/g, (_, index: string) => {
    bound.push(params[Number(index) - 1])
    return '?'
  })
  return { text, bound }
}

const sqlite: TestBackend = {
  name: 'SQLite',
  async open() {
    const dir = mkdtempSync(path.join(tmpdir(), 'imagegate-repositories-'))
    const file = path.join(dir, 'imagegate.db')
    const stores = [sqliteStoreOn(file)]
    const store = stores[0] as SqliteStore
    const run = async <Row>(statement: string, params: unknown[] = []) => {
      const { text, bound } = sqliteStatement(statement, params)
      const prepared = store.database.sqlite.prepare(text)
      if (prepared.reader) {
        return prepared.all(...bound) as Row[]
      }
      prepared.run(...bound)
      return []
    }
    return {
      connection: { kind: 'sqlite', store },
      run,
      addWorkspaces: (...ids) => addWorkspacesWith({ run }, ids),
      async openAnother() {
        const another = sqliteStoreOn(file)
        stores.push(another)
        return { kind: 'sqlite', store: another }
      },
      async close() {
        await Promise.all(stores.map((each) => each.close()))
        rmSync(dir, { recursive: true, force: true })
      },
    }
  },
}

const postgres: TestBackend = {
  name: 'PostgreSQL',
  async open(options = {}) {
    const database = await createTestDatabase(
      undefined,
      options.pgIcuLocale ? { icuLocale: options.pgIcuLocale } : {},
    )
    const pools: Postgres[] = []
    const connect = async () => {
      const opened = await openPostgres(database.url, { maxConnections: 4 })
      pools.push(opened)
      return opened
    }
    const close = async () => {
      await Promise.all(pools.map((pool) => pool.close()))
      await database.drop()
    }
    try {
      const first = await connect()
      const run = async <Row>(statement: string, params: unknown[] = []) =>
        (await first.pool.query(statement, params)).rows as Row[]
      return {
        connection: { kind: 'postgres', postgres: first },
        run,
        addWorkspaces: (...ids) => addWorkspacesWith({ run }, ids),
        openAnother: async () => ({ kind: 'postgres', postgres: await connect() }),
        close,
      }
    } catch (error) {
      await close()
      throw error
    }
  },
}

export const testBackends: readonly TestBackend[] = [sqlite, postgres]
