import Sqlite from 'better-sqlite3'
import { manualClock } from '../../providers/resilience/testing/manual-clock.ts'
import { CreditLedger } from '../ledger.ts'
import { tokenSequence } from './idempotency-stores.ts'

/** A ledger on a private in-memory database with a manual clock. */
export function ledgerFixture(sqlite: Sqlite.Database = new Sqlite(':memory:')) {
  const clock = manualClock(Date.parse('2030-01-01T12:00:00.000Z'))
  const ledger = new CreditLedger(sqlite, { clock, newId: tokenSequence('rsv') })
  ledger.ensureSchema()
  const count = (sql: string) => (sqlite.prepare(sql).get() as { n: number }).n
  return { sqlite, clock, ledger, count }
}
