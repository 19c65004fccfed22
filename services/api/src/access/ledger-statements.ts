import type Sqlite from 'better-sqlite3'

/** Every statement SqliteLedgerCore runs, prepared once per connection (on a migrated database). */
export function prepareLedgerStatements(sqlite: Sqlite.Database) {
  return {
    balance: sqlite.prepare('SELECT balance FROM credit_accounts WHERE workspace_id = :ws'),
    ensureAccount: sqlite.prepare(
      `INSERT INTO credit_accounts (workspace_id, balance, updated_at) VALUES (:ws, 0, :now)
       ON CONFLICT (workspace_id) DO NOTHING`,
    ),
    credit: sqlite.prepare(
      `INSERT INTO credit_accounts (workspace_id, balance, updated_at) VALUES (:ws, :amount, :now)
       ON CONFLICT (workspace_id) DO UPDATE SET balance = balance + excluded.balance,
         updated_at = excluded.updated_at`,
    ),
    debit: sqlite.prepare(
      `UPDATE credit_accounts SET balance = balance - :amount, updated_at = :now
       WHERE workspace_id = :ws AND balance >= :amount`,
    ),
    insertGrant: sqlite.prepare(
      `INSERT INTO credit_ledger (workspace_id, kind, delta, reference, created_at)
       VALUES (:ws, 'grant', :delta, :reference, :now) ON CONFLICT DO NOTHING`,
    ),
    insertEntry: sqlite.prepare(
      `INSERT INTO credit_ledger (workspace_id, kind, delta, reservation_id, reference, model, created_at)
       VALUES (:ws, :kind, :delta, :reservationId, :reference, :model, :now)`,
    ),
    insertReservation: sqlite.prepare(
      `INSERT INTO credit_reservations (id, workspace_id, reference, amount, model, state,
         settled_amount, images, created_at, closed_at)
       VALUES (:id, :workspace_id, :reference, :amount, :model, :state, :settled_amount, :images,
         :created_at, :closed_at)`,
    ),
    closeReservation: sqlite.prepare(
      `UPDATE credit_reservations SET state = :state, settled_amount = :settledAmount,
         images = :images, closed_at = :now
       WHERE id = :id AND state = 'held'`,
    ),
    grantByReference: sqlite.prepare(
      `SELECT workspace_id AS workspaceId FROM credit_ledger
       WHERE kind = 'grant' AND reference = :reference`,
    ),
    byId: sqlite.prepare('SELECT * FROM credit_reservations WHERE id = :id'),
    byReference: sqlite.prepare('SELECT * FROM credit_reservations WHERE reference = :reference'),
    staleHeld: sqlite.prepare(
      `SELECT id FROM credit_reservations AS r
       WHERE state = 'held' AND created_at < :before
         AND NOT EXISTS (SELECT 1 FROM generation_jobs AS j
                         WHERE j.reservation_id = r.id AND j.state IN ('queued', 'running'))
       ORDER BY created_at`,
    ),
    totals: sqlite.prepare(
      `SELECT
         (SELECT COALESCE(SUM(delta), 0) FROM credit_ledger
            WHERE workspace_id = :ws AND kind = 'grant') AS granted,
         (SELECT COALESCE(SUM(settled_amount), 0) FROM credit_reservations
            WHERE workspace_id = :ws AND state = 'settled') AS spent,
         (SELECT COALESCE(SUM(amount), 0) FROM credit_reservations
            WHERE workspace_id = :ws AND state = 'held') AS held`,
    ),
    usage: sqlite.prepare(
      `SELECT substr(closed_at, 1, 10) AS day, model, COUNT(*) AS requests,
         COALESCE(SUM(images), 0) AS images, SUM(settled_amount) AS spent
       FROM credit_reservations WHERE workspace_id = :ws AND state = 'settled'
       GROUP BY day, model ORDER BY day, model`,
    ),
    audit: sqlite.prepare(
      `SELECT a.workspace_id AS workspaceId, a.balance AS balance,
         COALESCE((SELECT SUM(delta) FROM credit_ledger l WHERE l.workspace_id = a.workspace_id), 0)
           AS ledgerSum
       FROM credit_accounts a
       WHERE a.balance != COALESCE((SELECT SUM(delta) FROM credit_ledger l
         WHERE l.workspace_id = a.workspace_id), 0)`,
    ),
  }
}
