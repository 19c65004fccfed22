import type Sqlite from 'better-sqlite3'
import { manualClock } from '../../providers/resilience/testing/manual-clock.ts'
import { createSqliteLedger } from '../sqlite-ledger.ts'
import { accessDatabase } from './access-database.ts'
import { tokenSequence } from './idempotency-stores.ts'

/** A ledger on a private in-memory database (or `sqlite`, migrated) with a manual clock. */
export function ledgerFixture(sqlite: Sqlite.Database = accessDatabase()) {
  const clock = manualClock(Date.parse('2030-01-01T12:00:00.000Z'))
  const ledger = createSqliteLedger(sqlite, { clock, newId: tokenSequence('rsv') })
  const count = (sql: string) => (sqlite.prepare(sql).get() as { n: number }).n
  return { sqlite, clock, ledger, count }
}
