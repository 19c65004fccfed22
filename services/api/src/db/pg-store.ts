import { randomUUID } from 'node:crypto'
import { PgIdempotencyStore } from '../access/pg-idempotency-store.ts'
import { createPgLedger } from '../access/pg-ledger.ts'
import type { Clock } from '../ids.ts'
import type { Postgres } from './pg-client.ts'
import { createPgApiKeysRepository } from './pg-repositories/api-keys.ts'
import { createPgAssetsRepository } from './pg-repositories/assets.ts'
import { createPgBlobPins, DEFAULT_PIN_TTL_MS } from './pg-repositories/blob-pins.ts'
import { createPgBootstrapRepository } from './pg-repositories/bootstrap.ts'
import { createPgGenerationsRepository } from './pg-repositories/generations.ts'
import { createPgWorkspacesRepository } from './pg-repositories/workspaces.ts'
import type { Store } from './store.ts'

/**
 * The shared store: every port on one PostgreSQL database, which any number of instances may
 * use at once. Blob pins are rows here too, so a GC pass on one instance sees what an upload or
 * generation on another is about to reference. Asset and generation rows and pins commit
 * without waiting for the WAL flush (pg-client.ts `asyncCommitPool`), as the SQLite store
 * writes them with synchronous = NORMAL; what must survive the database server's own crash
 * (credits, idempotency, workspaces, keys) waits for it.
 */
export type PgStore = Store & { kind: 'postgres'; postgres: Postgres }

export function createPgStore(
  postgres: Postgres,
  options: {
    clock: Clock
    newId: () => string
    /** A pin's renewal or release failed (the database is unreachable); the pin expires. */
    onPinError: (error: unknown, during: 'renew' | 'release') => void
  },
): PgStore {
  const { pool, asyncCommitPool } = postgres
  const ledger = createPgLedger(pool, { clock: options.clock, newId: options.newId })
  return {
    kind: 'postgres' as const,
    postgres,
    apiKeys: createPgApiKeysRepository(pool),
    workspaces: createPgWorkspacesRepository(pool),
    bootstrap: createPgBootstrapRepository(pool),
    assets: createPgAssetsRepository(asyncCommitPool),
    generations: createPgGenerationsRepository(asyncCommitPool),
    ledger,
    idempotency: new PgIdempotencyStore(pool, ledger),
    pins: createPgBlobPins(asyncCommitPool, {
      clock: options.clock,
      ttlMs: DEFAULT_PIN_TTL_MS,
      newId: randomUUID,
      onError: options.onPinError,
    }),
    async check() {
      await pool.query('SELECT 1')
    },
    close: () => postgres.close(),
  }
}
