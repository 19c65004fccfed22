import path from 'node:path'
import Sqlite from 'better-sqlite3'
import { unitsToCredits } from '../access/credit-units.ts'

export type LedgerAudit = {
  integrity: string
  /** Credits of workspace `default`. */
  balance: number
  /** Workspaces whose balance is not the sum of their ledger rows (empty when sound). */
  unbalanced: string[]
  negative: number
  held: number
  settled: number
  released: number
  /** Idempotency records still in flight. */
  inFlight: number
}

/**
 * The credits of a data dir as its database file says, read by a connection of its own (the
 * server may be running, or dead after a kill -9): what a crash test checks. One read
 * transaction, so every figure is of the same moment even while a running server commits (its
 * start-up releases stale holds, for one).
 */
export function auditLedger(dataDir: string): LedgerAudit {
  const sqlite = new Sqlite(path.join(dataDir, 'imagegate.db'), { readonly: true })
  try {
    return sqlite.transaction(() => readAudit(sqlite))()
  } finally {
    sqlite.close()
  }
}

function readAudit(sqlite: Sqlite.Database): LedgerAudit {
  const count = (sql: string) => (sqlite.prepare(sql).get() as { n: number }).n
  const balance = sqlite
    .prepare("SELECT balance FROM credit_accounts WHERE workspace_id = 'default'")
    .get() as { balance: number } | undefined
  return {
    integrity: String(sqlite.pragma('integrity_check', { simple: true })),
    balance: unitsToCredits(balance?.balance ?? 0),
    unbalanced: (
      sqlite
        .prepare(
          `SELECT a.workspace_id AS id FROM credit_accounts a WHERE a.balance !=
               (SELECT COALESCE(SUM(delta), 0) FROM credit_ledger l
                 WHERE l.workspace_id = a.workspace_id)`,
        )
        .all() as { id: string }[]
    ).map((row) => row.id),
    negative: count('SELECT COUNT(*) AS n FROM credit_accounts WHERE balance < 0'),
    held: count("SELECT COUNT(*) AS n FROM credit_reservations WHERE state = 'held'"),
    settled: count("SELECT COUNT(*) AS n FROM credit_reservations WHERE state = 'settled'"),
    released: count("SELECT COUNT(*) AS n FROM credit_reservations WHERE state = 'released'"),
    inFlight: count("SELECT COUNT(*) AS n FROM idempotency_keys WHERE state = 'in_flight'"),
  }
}
