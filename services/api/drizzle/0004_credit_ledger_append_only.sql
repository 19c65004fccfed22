-- The credit ledger is append-only: corrections are new rows, never edits.
CREATE TRIGGER `credit_ledger_no_update` BEFORE UPDATE ON `credit_ledger`
BEGIN SELECT RAISE(ABORT, 'credit_ledger is append-only'); END;
--> statement-breakpoint
CREATE TRIGGER `credit_ledger_no_delete` BEFORE DELETE ON `credit_ledger`
BEGIN SELECT RAISE(ABORT, 'credit_ledger is append-only'); END;
