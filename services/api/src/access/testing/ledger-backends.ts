import { manualClock } from '../../providers/resilience/testing/manual-clock.ts'
import { createPgLedger } from '../pg-ledger.ts'
import { LEDGER_SUITE_WORKSPACES, type LedgerFixture } from './describe-ledger.ts'
import { tokenSequence } from './idempotency-stores.ts'
import { ledgerFixture } from './ledger-fixture.ts'
import { pgAccessDatabase } from './pg-access-database.ts'

const SUITE_START_MS = Date.parse('2030-01-01T12:00:00.000Z')

async function sqliteLedgerFixture(): Promise<LedgerFixture> {
  const { ledger, clock, sqlite } = ledgerFixture()
  const count = (sql: string, ...params: unknown[]) =>
    (sqlite.prepare(sql).get(...params) as { n: number }).n
  return {
    ledger,
    clock,
    entries: async (kind) => count('SELECT COUNT(*) AS n FROM credit_ledger WHERE kind = ?', kind),
    reservations: async () => count('SELECT COUNT(*) AS n FROM credit_reservations'),
    close: async () => {
      sqlite.close()
    },
  }
}

async function pgLedgerFixture(): Promise<LedgerFixture> {
  const database = await pgAccessDatabase(LEDGER_SUITE_WORKSPACES)
  const { pool } = database.postgres
  const clock = manualClock(SUITE_START_MS)
  const count = async (sql: string, ...params: unknown[]) =>
    Number((await pool.query<{ n: string }>(sql, params)).rows[0]?.n)
  return {
    ledger: createPgLedger(pool, { clock, newId: tokenSequence('rsv') }),
    clock,
    entries: (kind) => count('SELECT COUNT(*) AS n FROM credit_ledger WHERE kind = $1', kind),
    reservations: () => count('SELECT COUNT(*) AS n FROM credit_reservations'),
    close: database.close,
  }
}

/** The backends the Ledger contract (describe-ledger.ts) runs against. */
export const ledgerBackends: [name: string, makeFixture: () => Promise<LedgerFixture>][] = [
  ['SQLite', sqliteLedgerFixture],
  ['PostgreSQL', pgLedgerFixture],
]
