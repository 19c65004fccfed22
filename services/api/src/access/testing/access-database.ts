import type Sqlite from 'better-sqlite3'
import { openDatabase } from '../../db/client.ts'

/**
 * A connection to a database migrated exactly as the app's (in memory, or `file`). The building
 * blocks are tested on workspace ids that have no `workspaces` row, so foreign keys are off on
 * this connection; the app's own tests run with them on.
 */
export function accessDatabase(file = ':memory:'): Sqlite.Database {
  const { sqlite, durable } = openDatabase(file)
  if (durable !== sqlite) {
    durable.close()
  }
  sqlite.pragma('foreign_keys = OFF')
  return sqlite
}
