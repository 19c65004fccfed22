export type ReservationState = 'held' | 'settled' | 'released'

export type Reservation = {
  id: string
  workspaceId: string
  reference: string
  amount: number
  model: string | null
  state: ReservationState
  settledAmount: number | null
  images: number | null
  createdAt: string
  closedAt: string | null
}

export type UsageRow = {
  /** UTC day of settlement, YYYY-MM-DD. */
  day: string
  model: string | null
  requests: number
  images: number
  spent: number
}

export type UsageSummary = {
  workspaceId: string
  balance: number
  granted: number
  spent: number
  held: number
  byDayAndModel: UsageRow[]
}

/** A credit_reservations row as better-sqlite3 returns it. */
export type ReservationRow = {
  id: string
  workspace_id: string
  reference: string
  amount: number
  model: string | null
  state: ReservationState
  settled_amount: number | null
  images: number | null
  created_at: string
  closed_at: string | null
}

export const toReservation = (row: ReservationRow): Reservation => ({
  id: row.id,
  workspaceId: row.workspace_id,
  reference: row.reference,
  amount: row.amount,
  model: row.model,
  state: row.state,
  settledAmount: row.settled_amount,
  images: row.images,
  createdAt: row.created_at,
  closedAt: row.closed_at,
})

export function assertUnits(amount: number, what: string) {
  if (!Number.isSafeInteger(amount) || amount < 0) {
    throw new RangeError(`${what} must be a non-negative whole number of units, got ${amount}`)
  }
}

/**
 * How a held reservation is closed inside another commit (an idempotency completion): settled
 * for `charge` when it is given, released whole otherwise.
 */
export type ReservationClose = {
  reservationId: string
  charge?: { units: number; images: number }
}
