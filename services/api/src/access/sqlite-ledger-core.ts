import type Sqlite from 'better-sqlite3'
import type { Clock } from '../ids.ts'
import type { LedgerMismatch } from './ledger.ts'
import {
  InsufficientCreditsError,
  ReservationClosedError,
  ReservationConflictError,
  ReservationNotFoundError,
} from './ledger-errors.ts'
import { prepareLedgerStatements } from './ledger-statements.ts'
import {
  assertUnits,
  type Reservation,
  type ReservationClose,
  type ReservationRow,
  toReservation,
  type UsageRow,
  type UsageSummary,
} from './ledger-types.ts'

/**
 * The Ledger port's rules on one SQLite connection, synchronously: what sqlite-ledger.ts runs
 * in its group commits, and what other SQLite writes that must share a commit with the ledger
 * (an idempotency completion, a workspace's first grant) call inside their own transaction.
 * Every method is one IMMEDIATE transaction (a savepoint when called inside another), so the
 * balance and the ledger never disagree and concurrent reservations from any number of
 * connections cannot overdraw: SQLite has one writer at a time, and the debit is a conditional
 * UPDATE (`balance >= amount`). The connection is opened with `synchronous = FULL`: a ledger
 * commit must survive power loss, not only a process crash. The tables come from the Drizzle
 * migrations (`db/schema/credits.ts`); `db/client.ts` opens that connection.
 */
export class SqliteLedgerCore {
  readonly #sqlite: Sqlite.Database
  readonly #clock: Clock
  readonly #newId: () => string
  #statements?: ReturnType<typeof prepareLedgerStatements>

  constructor(sqlite: Sqlite.Database, options: { clock: Clock; newId: () => string }) {
    this.#sqlite = sqlite
    this.#clock = options.clock
    this.#newId = options.newId
  }

  get #sql() {
    this.#statements ??= prepareLedgerStatements(this.#sqlite)
    return this.#statements
  }

  #now = () => this.#clock.now().toISOString()

  #write<T>(work: () => T): T {
    return this.#sqlite.transaction(work).immediate()
  }

  /** The spendable balance (held reservations already deducted); 0 for an unknown workspace. */
  balance(workspaceId: string): number {
    const row = this.#sql.balance.get({ ws: workspaceId }) as { balance: number } | undefined
    return row?.balance ?? 0
  }

  /** Creates the account with a zero balance if it has none (new workspaces without credits). */
  ensureAccount(workspaceId: string): void {
    this.#sql.ensureAccount.run({ ws: workspaceId, now: this.#now() })
  }

  /**
   * Adds credits. With a `reference`, replaying the same grant adds nothing the second time
   * (`granted: false`).
   */
  grant(
    workspaceId: string,
    amount: number,
    options: { reference?: string } = {},
  ): { granted: boolean; balance: number } {
    assertUnits(amount, 'a grant')
    if (amount === 0) {
      throw new RangeError('a grant must be positive')
    }
    return this.#write(() => {
      const now = this.#now()
      const entry = this.#sql.insertGrant.run({
        ws: workspaceId,
        delta: amount,
        reference: options.reference ?? null,
        now,
      })
      if (entry.changes === 1) {
        this.#sql.credit.run({ ws: workspaceId, amount, now })
      }
      return { granted: entry.changes === 1, balance: this.balance(workspaceId) }
    })
  }

  /** The workspace a grant with this reference went to, if there was one. */
  grantedTo(reference: string): string | undefined {
    const row = this.#sql.grantByReference.get({ reference }) as { workspaceId: string } | undefined
    return row?.workspaceId
  }

  /**
   * Holds `amount` for one charged request. `reference` is unique per reservation (the
   * idempotency attempt token, or the request id): reserving it again returns the same held
   * reservation instead of debiting twice; a reference already used otherwise is refused.
   * Throws InsufficientCreditsError when the balance is short.
   */
  reserve(
    workspaceId: string,
    amount: number,
    reference: string,
    options: { model?: string; supersedes?: string } = {},
  ): Reservation {
    assertUnits(amount, 'a reservation')
    return this.#write(() => {
      if (options.supersedes !== undefined) {
        this.releaseHeldByReference(options.supersedes)
      }
      const existing = this.#sql.byReference.get({ reference }) as ReservationRow | undefined
      if (existing) {
        if (existing.workspace_id !== workspaceId || existing.amount !== amount) {
          throw new ReservationConflictError(reference, 'it holds another workspace or amount')
        }
        if (existing.state !== 'held') {
          throw new ReservationConflictError(reference, `its reservation is ${existing.state}`)
        }
        return toReservation(existing)
      }
      const now = this.#now()
      this.#sql.ensureAccount.run({ ws: workspaceId, now })
      if (this.#sql.debit.run({ ws: workspaceId, amount, now }).changes !== 1) {
        throw new InsufficientCreditsError(workspaceId, amount, this.balance(workspaceId))
      }
      const row: ReservationRow = {
        id: this.#newId(),
        workspace_id: workspaceId,
        reference,
        amount,
        model: options.model ?? null,
        state: 'held',
        settled_amount: null,
        images: null,
        created_at: now,
        closed_at: null,
      }
      this.#sql.insertReservation.run(row)
      this.#sql.insertEntry.run({
        ws: workspaceId,
        kind: 'reserve',
        delta: -amount,
        reservationId: row.id,
        reference,
        model: row.model,
        now,
      })
      return toReservation(row)
    })
  }

  /** Charges `actualAmount` (≤ the amount held) and gives the rest back. Once per reservation. */
  settle(
    reservationId: string,
    actualAmount: number,
    options: { images?: number } = {},
  ): { reservation: Reservation; refunded: number; balance: number } {
    assertUnits(actualAmount, 'a settlement')
    return this.#close(reservationId, 'settled', (held) => {
      if (actualAmount > held.amount) {
        throw new RangeError(
          `cannot settle ${actualAmount} on reservation ${reservationId} of ${held.amount}`,
        )
      }
      return { settledAmount: actualAmount, images: options.images ?? null }
    })
  }

  /** Gives the whole amount back (the request failed). Once per reservation. */
  release(reservationId: string): { reservation: Reservation; refunded: number; balance: number } {
    return this.#close(reservationId, 'released', () => ({ settledAmount: null, images: null }))
  }

  /** Settles for `close.charge`, or releases without one, inside the caller's transaction. */
  close(close: ReservationClose) {
    return close.charge
      ? this.settle(close.reservationId, close.charge.units, { images: close.charge.images })
      : this.release(close.reservationId)
  }

  /** Releases the reservation of `reference` if it is still held (a superseded attempt's). */
  releaseHeldByReference(reference: string): boolean {
    return this.#write(() => {
      const row = this.#sql.byReference.get({ reference }) as ReservationRow | undefined
      if (row?.state !== 'held') {
        return false
      }
      this.release(row.id)
      return true
    })
  }

  /**
   * Releases every reservation held since before `heldBefore`: the holds of requests that
   * crashed. Safe once `heldBefore` is older than the idempotency lease, because no live attempt
   * can still own such a hold.
   */
  releaseStale(heldBefore: Date): number {
    return this.#write(() => {
      const stale = this.#sql.staleHeld.all({ before: heldBefore.toISOString() }) as {
        id: string
      }[]
      for (const { id } of stale) {
        this.release(id)
      }
      return stale.length
    })
  }

  getReservation(reservationId: string): Reservation | undefined {
    const row = this.#sql.byId.get({ id: reservationId }) as ReservationRow | undefined
    return row ? toReservation(row) : undefined
  }

  /** Spending by UTC day and model (settled reservations), plus the workspace's totals. */
  usageSummary(workspaceId: string): UsageSummary {
    const totals = this.#sql.totals.get({ ws: workspaceId }) as {
      granted: number
      spent: number
      held: number
    }
    const rows = this.#sql.usage.all({ ws: workspaceId }) as UsageRow[]
    return { workspaceId, balance: this.balance(workspaceId), ...totals, byDayAndModel: rows }
  }

  /** Workspaces whose balance is not the sum of their ledger rows (always empty when sound). */
  audit(): LedgerMismatch[] {
    return this.#sql.audit.all() as LedgerMismatch[]
  }

  #close(
    reservationId: string,
    state: 'settled' | 'released',
    decide: (held: ReservationRow) => { settledAmount: number | null; images: number | null },
  ) {
    return this.#write(() => {
      const held = this.#sql.byId.get({ id: reservationId }) as ReservationRow | undefined
      if (!held) {
        throw new ReservationNotFoundError(reservationId)
      }
      if (held.state !== 'held') {
        throw new ReservationClosedError(reservationId, held.state)
      }
      const { settledAmount, images } = decide(held)
      const refunded = held.amount - (settledAmount ?? 0)
      const now = this.#now()
      this.#sql.closeReservation.run({ id: reservationId, state, settledAmount, images, now })
      this.#sql.credit.run({ ws: held.workspace_id, amount: refunded, now })
      this.#sql.insertEntry.run({
        ws: held.workspace_id,
        kind: state === 'settled' ? 'settle' : 'release',
        delta: refunded,
        reservationId,
        reference: held.reference,
        model: held.model,
        now,
      })
      return {
        reservation: toReservation(this.#sql.byId.get({ id: reservationId }) as ReservationRow),
        refunded,
        balance: this.balance(held.workspace_id),
      }
    })
  }
}
