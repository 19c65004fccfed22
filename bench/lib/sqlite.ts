import Sqlite from 'better-sqlite3'

/** SQLite as the service's `db/client.ts` opens it (WAL, the given synchronous level). */
export function openSqlite(file: string, synchronous: 'NORMAL' | 'FULL'): Sqlite.Database {
  const sqlite = new Sqlite(file, { timeout: 5000 })
  sqlite.pragma('journal_mode = WAL')
  sqlite.pragma(`synchronous = ${synchronous}`)
  return sqlite
}
