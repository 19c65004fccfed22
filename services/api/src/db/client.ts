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
  close(): void
}

const migrationsFolder = path.resolve(import.meta.dirname, '../../drizzle')

/**
 * Opens SQLite with the pragmas imagegate relies on (WAL, foreign keys, busy timeout) and
 * applies the committed migrations. `':memory:'` gives a private database for tests.
 */
export function openDatabase(file: string): Database {
  if (file !== ':memory:') {
    mkdirSync(path.dirname(file), { recursive: true })
  }
  const sqlite = new Sqlite(file, { timeout: 5000 })
  sqlite.pragma('journal_mode = WAL')
  sqlite.pragma('synchronous = NORMAL')
  sqlite.pragma('foreign_keys = ON')
  sqlite.pragma('busy_timeout = 5000')
  const db = drizzle({ client: sqlite, schema })
  migrate(db, { migrationsFolder })
  return {
    db,
    sqlite,
    close() {
      if (sqlite.open) {
        sqlite.close()
      }
    },
  }
}
