/**
 * The credits tables, until they move into a Drizzle migration (the triggers go in as custom
 * SQL there). The balance lives in `credit_accounts` next to the append-only `credit_ledger`,
 * updated in the same transaction, so a reservation is one conditional UPDATE (the CHECK is
 * the last line of defence against a negative balance) plus one INSERT.
 * Amounts are integer ledger units (credit-units.ts); times are ISO-8601 UTC text.
 */
export const LEDGER_SCHEMA_SQL = `
CREATE TABLE IF NOT EXISTS credit_accounts (
  workspace_id TEXT PRIMARY KEY,
  balance INTEGER NOT NULL CHECK (balance >= 0),
  updated_at TEXT NOT NULL
);

CREATE TABLE IF NOT EXISTS credit_reservations (
  id TEXT PRIMARY KEY,
  workspace_id TEXT NOT NULL,
  reference TEXT NOT NULL UNIQUE,
  amount INTEGER NOT NULL CHECK (amount >= 0),
  model TEXT,
  state TEXT NOT NULL CHECK (state IN ('held', 'settled', 'released')),
  settled_amount INTEGER CHECK (settled_amount BETWEEN 0 AND amount),
  images INTEGER CHECK (images >= 0),
  created_at TEXT NOT NULL,
  closed_at TEXT,
  CHECK ((state = 'settled') = (settled_amount IS NOT NULL)),
  CHECK ((state = 'held') = (closed_at IS NULL))
);
CREATE INDEX IF NOT EXISTS credit_reservations_held
  ON credit_reservations (created_at) WHERE state = 'held';
CREATE INDEX IF NOT EXISTS credit_reservations_usage
  ON credit_reservations (workspace_id, closed_at) WHERE state = 'settled';

CREATE TABLE IF NOT EXISTS credit_ledger (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  workspace_id TEXT NOT NULL,
  kind TEXT NOT NULL CHECK (kind IN ('grant', 'reserve', 'settle', 'release')),
  delta INTEGER NOT NULL,
  reservation_id TEXT REFERENCES credit_reservations (id),
  reference TEXT,
  model TEXT,
  created_at TEXT NOT NULL,
  CHECK ((kind = 'grant') = (reservation_id IS NULL)),
  CHECK ((kind IN ('grant', 'settle', 'release')) = (delta >= 0) OR delta = 0)
);
CREATE INDEX IF NOT EXISTS credit_ledger_workspace ON credit_ledger (workspace_id, seq);
CREATE UNIQUE INDEX IF NOT EXISTS credit_ledger_one_reserve
  ON credit_ledger (reservation_id) WHERE kind = 'reserve';
CREATE UNIQUE INDEX IF NOT EXISTS credit_ledger_one_close
  ON credit_ledger (reservation_id) WHERE kind IN ('settle', 'release');
CREATE UNIQUE INDEX IF NOT EXISTS credit_ledger_grant_reference
  ON credit_ledger (reference) WHERE kind = 'grant' AND reference IS NOT NULL;

CREATE TRIGGER IF NOT EXISTS credit_ledger_no_update BEFORE UPDATE ON credit_ledger
BEGIN SELECT RAISE(ABORT, 'credit_ledger is append-only'); END;
CREATE TRIGGER IF NOT EXISTS credit_ledger_no_delete BEFORE DELETE ON credit_ledger
BEGIN SELECT RAISE(ABORT, 'credit_ledger is append-only'); END;
`
