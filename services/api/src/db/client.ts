import { mkdirSync } from 'node:fs'
import path from 'node:path'
import Sqlite from 'better-sqlite3'
import { type BetterSQLite3Database, drizzle } from 'drizzle-orm/better-sqlite3'
import { migrate } from 'drizzle-orm/better-sqlite3/migrator'
import * as schema from './schema/index.ts'

export type Db = BetterSQLite3Database<typeof schema>

export type Database = {
  db: Db
  sqlite: Sqlite.Database
  /**
   * A second connection to the same file with `synchronous = FULL`, for the writes that must
   * survive power loss, not only a process crash: the credits ledger, idempotency records,
   * workspaces and API keys. Everything else keeps NORMAL on `sqlite`,
   * so asset and generation rows do not pay an fsync of the WAL per commit. A FULL commit
   * syncs the whole WAL, so it also makes every earlier NORMAL commit durable.
   * For `:memory:` (tests) it is the same connection: a private in-memory database cannot be
   * shared, and durability means nothing there.
   */
  durable: Sqlite.Database
  /** Drizzle over `durable`. */
  durableDb: Db
  close(): void
}

const migrationsFolder = path.resolve(import.meta.dirname, '../../drizzle')

function connect(file: string, synchronous: 'NORMAL' | 'FULL'): Sqlite.Database {
  const sqlite = new Sqlite(file, { timeout: 5000 })
  sqlite.pragma('journal_mode = WAL')
  sqlite.pragma(`synchronous = ${synchronous}`)
  sqlite.pragma('foreign_keys = ON')
  sqlite.pragma('busy_timeout = 5000')
  return sqlite
}

/**
 * Opens SQLite with the pragmas imagegate relies on (WAL, foreign keys, busy timeout) and
 * applies the committed migrations. `':memory:'` gives a private database for tests.
 */
export function openDatabase(file: string): Database {
  if (file !== ':memory:') {
    mkdirSync(path.dirname(file), { recursive: true })
  }
  const sqlite = connect(file, 'NORMAL')
  const db = drizzle({ client: sqlite, schema })
  migrate(db, { migrationsFolder })
  // Opened after the migrations, so it never sees a half-migrated schema. Both connections live
  // in one process and every transaction is synchronous, so they never wait on each other.
  const durable = file === ':memory:' ? sqlite : connect(file, 'FULL')
  const durableDb = durable === sqlite ? db : drizzle({ client: durable, schema })
  return {
    db,
    sqlite,
    durable,
    durableDb,
    close() {
      for (const connection of new Set([durable, sqlite])) {
        if (connection.open) {
          connection.close()
        }
      }
    },
  }
}
