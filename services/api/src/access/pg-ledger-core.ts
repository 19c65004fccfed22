import type pg from 'pg'
import type { ClosedReservation } from './ledger.ts'
import {
  InsufficientCreditsError,
  ReservationClosedError,
  ReservationConflictError,
  ReservationNotFoundError,
} from './ledger-errors.ts'
import {
  assertUnits,
  type Reservation,
  type ReservationClose,
  type ReservationRow,
  toReservation,
} from './ledger-types.ts'

/**
 * The Ledger's writes on one PostgreSQL connection, inside a transaction the caller opened
 * (pg-ledger.ts runs each in one of its own; pg-idempotency-store.ts runs `closeReservationIn`
 * in the commit that completes an idempotency record).
 *
 * Locking: every write that moves a balance first takes the workspace's credit_accounts row
 * with SELECT … FOR UPDATE and keeps it to the commit. A conditional UPDATE (`balance >= $1`)
 * alone would stop overdrafts, but a reservation is more than its debit: it replays a held
 * reference, releases a superseded hold and reports the balance it was refused on, and those
 * reads must see the same state the debit does. With the row lock they are one serial decision
 * per workspace, as SQLite's single writer makes them, under plain READ COMMITTED (each
 * statement after the lock sees every commit before it) and without retry loops; workspaces
 * never wait for each other. Locks come in one order (the idempotency record when a completion
 * closes a reservation, then the account, then the reservation; several accounts in workspace
 * order), so no two writers can deadlock. The unique indexes (one reservation per reference, one reserve and
 * one close row per reservation) stay the second line of defence; pg-ledger.ts maps their
 * violations to the errors the SQLite ledger throws.
 */

type Client = pg.PoolClient

/** A ReservationClose, where a settlement may leave the image count unknown. */
export type Closing = Omit<ReservationClose, 'charge'> & {
  charge?: { units: number; images: number | null }
}

/** credit_reservations as node-postgres returns it: 64-bit columns arrive as strings. */
type PgReservationRow = Omit<ReservationRow, 'amount' | 'settled_amount'> & {
  amount: string
  settled_amount: string | null
}

const toPgReservation = (row: PgReservationRow): Reservation =>
  toReservation({
    ...row,
    amount: Number(row.amount),
    settled_amount: row.settled_amount === null ? null : Number(row.settled_amount),
  })

export async function reservationById(
  client: pg.ClientBase | pg.Pool,
  id: string,
  forUpdate = false,
): Promise<Reservation | undefined> {
  const { rows } = await client.query<PgReservationRow>(
    `SELECT * FROM credit_reservations WHERE id = $1${forUpdate ? ' FOR UPDATE' : ''}`,
    [id],
  )
  return rows[0] ? toPgReservation(rows[0]) : undefined
}

async function reservationByReference(client: Client, reference: string) {
  const { rows } = await client.query<PgReservationRow>(
    'SELECT * FROM credit_reservations WHERE reference = $1',
    [reference],
  )
  return rows[0] ? toPgReservation(rows[0]) : undefined
}

/** Creates the account if it has none, locks it to the commit, and answers its balance. */
export async function lockAccount(client: Client, workspaceId: string, now: string) {
  await client.query(
    `INSERT INTO credit_accounts (workspace_id, balance, updated_at) VALUES ($1, 0, $2)
     ON CONFLICT (workspace_id) DO NOTHING`,
    [workspaceId, now],
  )
  const { rows } = await client.query<{ balance: string }>(
    'SELECT balance FROM credit_accounts WHERE workspace_id = $1 FOR UPDATE',
    [workspaceId],
  )
  return Number(rows[0]?.balance ?? 0)
}

async function addToBalance(client: Client, workspaceId: string, delta: number, now: string) {
  const { rows } = await client.query<{ balance: string }>(
    `UPDATE credit_accounts SET balance = balance + $2, updated_at = $3
     WHERE workspace_id = $1 RETURNING balance`,
    [workspaceId, delta, now],
  )
  return Number(rows[0]?.balance ?? 0)
}

async function appendEntry(
  client: Client,
  entry: { kind: 'reserve' | 'settle' | 'release'; delta: number; reservation: Reservation },
  now: string,
) {
  const { reservation } = entry
  await client.query(
    `INSERT INTO credit_ledger (workspace_id, kind, delta, reservation_id, reference, model, created_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7)`,
    [
      reservation.workspaceId,
      entry.kind,
      entry.delta,
      reservation.id,
      reservation.reference,
      reservation.model,
      now,
    ],
  )
}

export async function grantIn(
  client: Client,
  workspaceId: string,
  amount: number,
  reference: string | undefined,
  now: string,
) {
  const before = await lockAccount(client, workspaceId, now)
  const entry = await client.query(
    `INSERT INTO credit_ledger (workspace_id, kind, delta, reference, created_at)
     VALUES ($1, 'grant', $2, $3, $4) ON CONFLICT DO NOTHING`,
    [workspaceId, amount, reference ?? null, now],
  )
  if (entry.rowCount !== 1) {
    return { granted: false, balance: before }
  }
  return { granted: true, balance: await addToBalance(client, workspaceId, amount, now) }
}

export async function reserveIn(
  client: Client,
  request: {
    workspaceId: string
    amount: number
    reference: string
    model?: string
    supersedes?: string
  },
  ids: { newId: () => string; now: string },
): Promise<Reservation> {
  const { workspaceId, amount, reference } = request
  assertUnits(amount, 'a reservation')
  const { now } = ids
  let balance = await lockAccount(client, workspaceId, now)
  if (request.supersedes !== undefined) {
    await releaseHeldByReferenceIn(client, request.supersedes, now)
    balance = await lockAccount(client, workspaceId, now)
  }
  const existing = await reservationByReference(client, reference)
  if (existing) {
    if (existing.workspaceId !== workspaceId || existing.amount !== amount) {
      throw new ReservationConflictError(reference, 'it holds another workspace or amount')
    }
    if (existing.state !== 'held') {
      throw new ReservationConflictError(reference, `its reservation is ${existing.state}`)
    }
    return existing
  }
  if (balance < amount) {
    throw new InsufficientCreditsError(workspaceId, amount, balance)
  }
  const reservation: Reservation = {
    id: ids.newId(),
    workspaceId,
    reference,
    amount,
    model: request.model ?? null,
    state: 'held',
    settledAmount: null,
    images: null,
    createdAt: now,
    closedAt: null,
  }
  await addToBalance(client, workspaceId, -amount, now)
  await client.query(
    `INSERT INTO credit_reservations (id, workspace_id, reference, amount, model, state, created_at)
     VALUES ($1, $2, $3, $4, $5, 'held', $6)`,
    [reservation.id, workspaceId, reference, amount, reservation.model, now],
  )
  await appendEntry(client, { kind: 'reserve', delta: -amount, reservation }, now)
  return reservation
}

/** Settles for `close.charge`, or releases without one, in the caller's transaction. */
export async function closeReservationIn(
  client: Client,
  close: Closing,
  now: string,
): Promise<ClosedReservation> {
  const unlocked = await reservationById(client, close.reservationId)
  if (!unlocked) {
    throw new ReservationNotFoundError(close.reservationId)
  }
  // Account first, then the reservation: the order every ledger write takes its locks in.
  await lockAccount(client, unlocked.workspaceId, now)
  const held = (await reservationById(client, close.reservationId, true)) ?? unlocked
  if (held.state !== 'held') {
    throw new ReservationClosedError(held.id, held.state)
  }
  const settledAmount = close.charge ? close.charge.units : null
  if (settledAmount !== null) {
    assertUnits(settledAmount, 'a settlement')
    if (settledAmount > held.amount) {
      throw new RangeError(
        `cannot settle ${settledAmount} on reservation ${held.id} of ${held.amount}`,
      )
    }
  }
  const state = settledAmount === null ? 'released' : 'settled'
  const images = close.charge ? close.charge.images : null
  const refunded = held.amount - (settledAmount ?? 0)
  const { rows } = await client.query<PgReservationRow>(
    `UPDATE credit_reservations SET state = $2, settled_amount = $3, images = $4, closed_at = $5
     WHERE id = $1 AND state = 'held' RETURNING *`,
    [held.id, state, settledAmount, images, now],
  )
  const closed = rows[0]
  if (!closed) {
    throw new ReservationClosedError(held.id, state)
  }
  const balance = await addToBalance(client, held.workspaceId, refunded, now)
  await appendEntry(
    client,
    { kind: state === 'settled' ? 'settle' : 'release', delta: refunded, reservation: held },
    now,
  )
  return { reservation: toPgReservation(closed), refunded, balance }
}

/** Releases the reservation of `reference` if it is still held; false when it is not. */
export async function releaseHeldByReferenceIn(client: Client, reference: string, now: string) {
  const row = await reservationByReference(client, reference)
  return row?.state === 'held' && releaseIfStillHeld(client, row.id, row.workspaceId, now)
}

/** Releases every reservation held since before `heldBefore`, locking accounts in a fixed order. */
export async function releaseStaleIn(client: Client, heldBefore: Date, now: string) {
  const { rows } = await client.query<{ id: string; workspace_id: string }>(
    `SELECT id, workspace_id FROM credit_reservations WHERE state = 'held' AND created_at < $1
     ORDER BY workspace_id, created_at, id`,
    [heldBefore.toISOString()],
  )
  let released = 0
  for (const row of rows) {
    if (await releaseIfStillHeld(client, row.id, row.workspace_id, now)) {
      released += 1
    }
  }
  return released
}

/** Another instance may have closed the reservation since it was read unlocked. */
async function releaseIfStillHeld(client: Client, id: string, workspaceId: string, now: string) {
  await lockAccount(client, workspaceId, now)
  if ((await reservationById(client, id))?.state !== 'held') {
    return false
  }
  await closeReservationIn(client, { reservationId: id }, now)
  return true
}
