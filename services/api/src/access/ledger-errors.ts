/** The balance cannot cover the reservation. Amounts are ledger units (credit-units.ts). */
export class InsufficientCreditsError extends Error {
  readonly workspaceId: string
  readonly cost: number
  readonly balance: number

  constructor(workspaceId: string, cost: number, balance: number) {
    super(`Workspace ${workspaceId} needs ${cost} but has ${balance}`)
    this.name = 'InsufficientCreditsError'
    this.workspaceId = workspaceId
    this.cost = cost
    this.balance = balance
  }
}

/** A reference already names a different reservation (another workspace, amount, or a closed one). */
export class ReservationConflictError extends Error {
  readonly reference: string

  constructor(reference: string, why: string) {
    super(`Reservation reference '${reference}' is taken: ${why}`)
    this.name = 'ReservationConflictError'
    this.reference = reference
  }
}

/** Settling or releasing a reservation that was already settled or released. */
export class ReservationClosedError extends Error {
  readonly reservationId: string
  readonly state: 'settled' | 'released'

  constructor(reservationId: string, state: 'settled' | 'released') {
    super(`Reservation ${reservationId} is already ${state}`)
    this.name = 'ReservationClosedError'
    this.reservationId = reservationId
    this.state = state
  }
}

export class ReservationNotFoundError extends Error {
  readonly reservationId: string

  constructor(reservationId: string) {
    super(`No reservation ${reservationId}`)
    this.name = 'ReservationNotFoundError'
    this.reservationId = reservationId
  }
}
