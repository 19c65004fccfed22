import { manualClock } from '../../providers/resilience/testing/manual-clock.ts'
import type { IdempotencyStore } from '../idempotency-store.ts'
import type { Ledger } from '../ledger.ts'
import { PgIdempotencyStore } from '../pg-idempotency-store.ts'
import { createPgLedger } from '../pg-ledger.ts'
import { SqliteIdempotencyStore } from '../sqlite-idempotency-store.ts'
import { createSqliteLedger } from '../sqlite-ledger.ts'
import { accessDatabase } from './access-database.ts'
import { pgAccessDatabase } from './pg-access-database.ts'

/** An idempotency store with the ledger its completions close reservations in. */
export type IdempotencyFixture = {
  store: IdempotencyStore
  ledger: Ledger
  close(): Promise<void>
}

/** The workspaces the idempotency suites use; a backend with foreign keys creates them first. */
export const IDEMPOTENCY_SUITE_WORKSPACES = ['ws', 'ws_a', 'ws_b']

export function sqliteIdempotencyFixture(): IdempotencyFixture {
  const sqlite = accessDatabase()
  const ledger = createSqliteLedger(sqlite, {
    clock: manualClock(Date.parse('2030-01-01T12:00:00.000Z')),
    newId: tokenSequence('rsv'),
  })
  return {
    store: new SqliteIdempotencyStore(sqlite, ledger.core),
    ledger,
    close: async () => {
      sqlite.close()
    },
  }
}

export async function pgIdempotencyFixture(): Promise<IdempotencyFixture> {
  const database = await pgAccessDatabase(IDEMPOTENCY_SUITE_WORKSPACES)
  const { pool } = database.postgres
  const ledger = createPgLedger(pool, {
    clock: manualClock(Date.parse('2030-01-01T12:00:00.000Z')),
    newId: tokenSequence('rsv'),
  })
  return { store: new PgIdempotencyStore(pool, ledger), ledger, close: database.close }
}

/** The stores every behaviour test runs against. */
export const idempotencyStores: [name: string, create: () => Promise<IdempotencyFixture>][] = [
  ['sqlite', async () => sqliteIdempotencyFixture()],
  ['postgresql', pgIdempotencyFixture],
]

/** Distinct tokens in order: tok_1, tok_2, … */
export function tokenSequence(prefix = 'tok'): () => string {
  let next = 0
  return () => {
    next += 1
    return `${prefix}_${next}`
  }
}
