import type Sqlite from 'better-sqlite3'
import type { Clock } from '../ids.ts'
import { createGroupCommit, type GroupCommit } from './group-commit.ts'
import type { Ledger } from './ledger.ts'
import { SqliteLedgerCore } from './sqlite-ledger-core.ts'

/**
 * The Ledger port on SQLite. Every write goes through one group commit per connection
 * (group-commit.ts): the holds and settlements of concurrent requests share a transaction and
 * its one fsync per turn of the event loop, and each caller still hears of its own result only
 * once that commit is durable. Reads run at once on the connection. `core` is the synchronous
 * ledger on the same connection, for SQLite writes that must share a commit with the ledger;
 * `commit` the group commit its own writes go through, for such writes to join.
 */
export type SqliteLedgerWriter = { core: SqliteLedgerCore; commit: GroupCommit }

export function createSqliteLedger(
  sqlite: Sqlite.Database,
  options: { clock: Clock; newId: () => string },
): Ledger & SqliteLedgerWriter {
  const core = new SqliteLedgerCore(sqlite, options)
  const commit = createGroupCommit(sqlite)
  return {
    core,
    commit,
    balance: async (workspaceId) => core.balance(workspaceId),
    ensureAccount: (workspaceId) => commit(() => core.ensureAccount(workspaceId)),
    grant: (workspaceId, amount, grantOptions) =>
      commit(() => core.grant(workspaceId, amount, grantOptions)),
    grantedTo: async (reference) => core.grantedTo(reference),
    reserve: (workspaceId, amount, reference, reserveOptions) =>
      commit(() => core.reserve(workspaceId, amount, reference, reserveOptions)),
    settle: (reservationId, actualAmount, settleOptions) =>
      commit(() => core.settle(reservationId, actualAmount, settleOptions)),
    release: (reservationId) => commit(() => core.release(reservationId)),
    releaseHeldByReference: (reference) => commit(() => core.releaseHeldByReference(reference)),
    releaseStale: (heldBefore) => commit(() => core.releaseStale(heldBefore)),
    getReservation: async (reservationId) => core.getReservation(reservationId),
    usageSummary: async (workspaceId) => core.usageSummary(workspaceId),
    audit: async () => core.audit(),
  }
}
