import type { Reservation, UsageSummary } from './ledger-types.ts'

export type {
  Reservation,
  ReservationClose,
  ReservationState,
  UsageRow,
  UsageSummary,
} from './ledger-types.ts'

/** A reservation as it stands after a settle or release, what went back, and the new balance. */
export type ClosedReservation = { reservation: Reservation; refunded: number; balance: number }

/** A workspace whose balance is not the sum of its ledger rows. */
export type LedgerMismatch = { workspaceId: string; balance: number; ledgerSum: number }

/**
 * Credits with a reserve → settle | release life cycle over an append-only ledger: the port
 * every backend implements (access/sqlite-ledger.ts on SQLite, access/pg-ledger.ts on
 * PostgreSQL). Each method is one commit, so the balance and the ledger never disagree; no
 * interleaving of calls, from any number of processes, overdraws a balance or debits one
 * reference twice. Amounts are ledger units (credit-units.ts). When a method resolves, its
 * commit is durable.
 */
export type Ledger = {
  /** The spendable balance (held reservations already deducted); 0 for an unknown workspace. */
  balance(workspaceId: string): Promise<number>
  /** Creates the account with a zero balance if it has none. */
  ensureAccount(workspaceId: string): Promise<void>
  /**
   * Adds credits. With a `reference`, replaying the same grant adds nothing the second time
   * (`granted: false`).
   */
  grant(
    workspaceId: string,
    amount: number,
    options?: { reference?: string },
  ): Promise<{ granted: boolean; balance: number }>
  /** The workspace a grant with this reference went to, if there was one. */
  grantedTo(reference: string): Promise<string | undefined>
  /**
   * Holds `amount` for one charged request. `reference` is unique per reservation: reserving it
   * again answers the same held reservation instead of debiting twice; a reference already used
   * otherwise is refused (ReservationConflictError). `supersedes` names an earlier attempt's
   * reference whose hold, if still held, is released in the same commit. Throws
   * InsufficientCreditsError when the balance is short.
   */
  reserve(
    workspaceId: string,
    amount: number,
    reference: string,
    options?: { model?: string; supersedes?: string },
  ): Promise<Reservation>
  /** Charges `actualAmount` (≤ the amount held) and gives the rest back. Once per reservation. */
  settle(
    reservationId: string,
    actualAmount: number,
    options?: { images?: number },
  ): Promise<ClosedReservation>
  /** Gives the whole amount back (the request failed). Once per reservation. */
  release(reservationId: string): Promise<ClosedReservation>
  /** Releases the reservation of `reference` if it is still held (a superseded attempt's). */
  releaseHeldByReference(reference: string): Promise<boolean>
  /**
   * Releases every reservation held since before `heldBefore`: the holds of requests that
   * crashed. Safe once `heldBefore` is older than the idempotency lease. The hold of an
   * unfinished job is the job's, however old: a job may wait in its queue longer than any
   * request runs (services/jobs closes it).
   */
  releaseStale(heldBefore: Date): Promise<number>
  getReservation(reservationId: string): Promise<Reservation | undefined>
  /** Spending by UTC day and model (settled reservations), plus the workspace's totals. */
  usageSummary(workspaceId: string): Promise<UsageSummary>
  /** Workspaces whose balance is not the sum of their ledger rows (always empty when sound). */
  audit(): Promise<LedgerMismatch[]>
}
