-- The credit ledger is append-only: corrections are new rows, never edits.
CREATE FUNCTION credit_ledger_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	RAISE EXCEPTION 'credit_ledger is append-only';
END;
$$;
--> statement-breakpoint
CREATE TRIGGER credit_ledger_no_update BEFORE UPDATE ON credit_ledger
FOR EACH ROW EXECUTE FUNCTION credit_ledger_append_only();
--> statement-breakpoint
CREATE TRIGGER credit_ledger_no_delete BEFORE DELETE ON credit_ledger
FOR EACH ROW EXECUTE FUNCTION credit_ledger_append_only();
--> statement-breakpoint
-- TRUNCATE skips row triggers; it is an edit of the ledger like any other.
CREATE TRIGGER credit_ledger_no_truncate BEFORE TRUNCATE ON credit_ledger
FOR EACH STATEMENT EXECUTE FUNCTION credit_ledger_append_only();
