import type { Ledger } from '../access/ledger.ts'
import { SqliteIdempotencyStore } from '../access/sqlite-idempotency-store.ts'
import { createSqliteLedger, type SqliteLedgerWriter } from '../access/sqlite-ledger.ts'
import type { Clock } from '../ids.ts'
import { createMemoryBlobPins } from '../storage/memory-blob-pins.ts'
import type { Database } from './client.ts'
import { createApiKeysRepository } from './repositories/api-keys.ts'
import { createAssetsRepository } from './repositories/assets.ts'
import { createBootstrapRepository } from './repositories/bootstrap.ts'
import { createGenerationsRepository } from './repositories/generations.ts'
import { createWorkspacesRepository } from './repositories/workspaces.ts'
import type { Store } from './store.ts'

/**
 * The embedded store: every port on one SQLite database. Workspaces, keys, credits and
 * idempotency records write on the durable (synchronous = FULL) connection; assets and
 * generations on the NORMAL one (db/client.ts says why). One process owns the file, so blob pins
 * stay in its memory.
 */
export type SqliteStore = Store & {
  kind: 'sqlite'
  database: Database
  /** The Ledger, and its connection's group commit for writes that share it (a job's accept). */
  ledger: Ledger & SqliteLedgerWriter
}

export function createSqliteStore(
  database: Database,
  options: { clock: Clock; newId: () => string },
): SqliteStore {
  const ledger = createSqliteLedger(database.durable, options)
  return {
    kind: 'sqlite' as const,
    database,
    apiKeys: createApiKeysRepository(database.durableDb),
    workspaces: createWorkspacesRepository(database, ledger.core),
    bootstrap: createBootstrapRepository(database, ledger.core),
    assets: createAssetsRepository(database.db),
    generations: createGenerationsRepository(database.db),
    ledger,
    idempotency: new SqliteIdempotencyStore(database.durable, ledger.core),
    pins: createMemoryBlobPins(),
    async check() {
      database.sqlite.prepare('select 1').get()
    },
    async close() {
      database.close()
    },
  }
}

/** The SQLite store behind `store`, for tests that read its tables directly. */
export function sqliteStoreOf(store: Store): SqliteStore {
  if (store.kind !== 'sqlite' || !('database' in store)) {
    throw new Error(`this needs the SQLite store, not ${store.kind}`)
  }
  return store as SqliteStore
}
