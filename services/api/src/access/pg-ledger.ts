import type pg from 'pg'
import { inPgTransaction, pgErrorOf } from '../db/pg-transaction.ts'
import type { Clock } from '../ids.ts'
import type { ClosedReservation, Ledger, LedgerMismatch } from './ledger.ts'
import { ReservationClosedError, ReservationConflictError } from './ledger-errors.ts'
import type { UsageRow } from './ledger-types.ts'
import { assertUnits } from './ledger-types.ts'
import {
  type Closing,
  closeReservationIn,
  grantIn,
  releaseHeldByReferenceIn,
  releaseStaleIn,
  reservationById,
  reserveIn,
} from './pg-ledger-core.ts'

/** Settles or releases a reservation inside a transaction the caller holds on `client`. */
export type PgReservationCloser = {
  closeWithin(client: pg.PoolClient, close: Closing): Promise<ClosedReservation>
}

const UNIQUE_VIOLATION = '23505'

/**
 * The Ledger port on PostgreSQL: each method one transaction on a pooled connection, its
 * writes serialised per workspace by a row lock on the account (pg-ledger-core.ts says why a
 * lock rather than a conditional UPDATE). Any number of instances can share one database. A
 * unique index that still refuses a row (a reference reserved by another workspace at the same
 * moment, a second close) surfaces as the error the SQLite ledger throws for the same case.
 */
export function createPgLedger(
  pool: pg.Pool,
  options: { clock: Clock; newId: () => string },
): Ledger & PgReservationCloser {
  const now = () => options.clock.now().toISOString()
  const closing = async (close: Closing) => {
    try {
      return await inPgTransaction(pool, (client) => closeReservationIn(client, close, now()))
    } catch (error) {
      throw await asClosedError(pool, error, close.reservationId)
    }
  }
  return {
    closeWithin: async (client, close) => {
      try {
        return await closeReservationIn(client, close, now())
      } catch (error) {
        throw await asClosedError(pool, error, close.reservationId)
      }
    },
    balance: async (workspaceId) => {
      const { rows } = await pool.query<{ balance: string }>(
        'SELECT balance FROM credit_accounts WHERE workspace_id = $1',
        [workspaceId],
      )
      return Number(rows[0]?.balance ?? 0)
    },
    ensureAccount: async (workspaceId) => {
      await pool.query(
        `INSERT INTO credit_accounts (workspace_id, balance, updated_at) VALUES ($1, 0, $2)
         ON CONFLICT (workspace_id) DO NOTHING`,
        [workspaceId, now()],
      )
    },
    grant: async (workspaceId, amount, grantOptions = {}) => {
      assertUnits(amount, 'a grant')
      if (amount === 0) {
        throw new RangeError('a grant must be positive')
      }
      return inPgTransaction(pool, (client) =>
        grantIn(client, workspaceId, amount, grantOptions.reference, now()),
      )
    },
    grantedTo: async (reference) => {
      const { rows } = await pool.query<{ workspace_id: string }>(
        "SELECT workspace_id FROM credit_ledger WHERE kind = 'grant' AND reference = $1",
        [reference],
      )
      return rows[0]?.workspace_id
    },
    reserve: async (workspaceId, amount, reference, reserveOptions = {}) => {
      try {
        return await inPgTransaction(pool, (client) =>
          reserveIn(
            client,
            { workspaceId, amount, reference, ...reserveOptions },
            { newId: options.newId, now: now() },
          ),
        )
      } catch (error) {
        const { code, constraint } = pgErrorOf(error)
        if (
          code === UNIQUE_VIOLATION &&
          (constraint === 'credit_reservations_reference' ||
            constraint === 'credit_ledger_one_reserve')
        ) {
          throw new ReservationConflictError(reference, 'another reservation took it meanwhile')
        }
        throw error
      }
    },
    settle: async (reservationId, actualAmount, settleOptions = {}) =>
      closing({
        reservationId,
        charge: { units: actualAmount, images: settleOptions.images ?? null },
      }),
    release: async (reservationId) => closing({ reservationId }),
    releaseHeldByReference: (reference) =>
      inPgTransaction(pool, (client) => releaseHeldByReferenceIn(client, reference, now())),
    releaseStale: (heldBefore) =>
      inPgTransaction(pool, (client) => releaseStaleIn(client, heldBefore, now())),
    getReservation: (reservationId) => reservationById(pool, reservationId),
    usageSummary: async (workspaceId) => {
      const [balance, totals, usage] = await Promise.all([
        pool.query<{ balance: string }>(
          'SELECT balance FROM credit_accounts WHERE workspace_id = $1',
          [workspaceId],
        ),
        pool.query<{ granted: string; spent: string; held: string }>(TOTALS, [workspaceId]),
        pool.query<{
          day: string
          model: string | null
          requests: number
          images: string
          spent: string
        }>(USAGE, [workspaceId]),
      ])
      const sums = totals.rows[0]
      return {
        workspaceId,
        balance: Number(balance.rows[0]?.balance ?? 0),
        granted: Number(sums?.granted ?? 0),
        spent: Number(sums?.spent ?? 0),
        held: Number(sums?.held ?? 0),
        byDayAndModel: usage.rows.map(
          (row): UsageRow => ({
            day: row.day,
            model: row.model,
            requests: row.requests,
            images: Number(row.images),
            spent: Number(row.spent),
          }),
        ),
      }
    },
    audit: async () => {
      const { rows } = await pool.query<{
        workspace_id: string
        balance: string
        ledger_sum: string
      }>(AUDIT)
      return rows.map(
        (row): LedgerMismatch => ({
          workspaceId: row.workspace_id,
          balance: Number(row.balance),
          ledgerSum: Number(row.ledger_sum),
        }),
      )
    },
  }
}

/** A second close refused by the one-close index reads as the state the first close left. */
async function asClosedError(pool: pg.Pool, error: unknown, reservationId: string) {
  const { code, constraint } = pgErrorOf(error)
  if (code !== UNIQUE_VIOLATION || constraint !== 'credit_ledger_one_close') {
    return error
  }
  const state = (await reservationById(pool, reservationId))?.state
  return new ReservationClosedError(reservationId, state === 'released' ? 'released' : 'settled')
}

const TOTALS = `SELECT
  (SELECT COALESCE(SUM(delta), 0) FROM credit_ledger
     WHERE workspace_id = $1 AND kind = 'grant') AS granted,
  (SELECT COALESCE(SUM(settled_amount), 0) FROM credit_reservations
     WHERE workspace_id = $1 AND state = 'settled') AS spent,
  (SELECT COALESCE(SUM(amount), 0) FROM credit_reservations
     WHERE workspace_id = $1 AND state = 'held') AS held`

// The C collation and NULLS FIRST order the models as SQLite does.
const USAGE = `SELECT substr(closed_at, 1, 10) AS day, model, COUNT(*)::int AS requests,
    COALESCE(SUM(images), 0) AS images, SUM(settled_amount) AS spent
  FROM credit_reservations WHERE workspace_id = $1 AND state = 'settled'
  GROUP BY 1, 2 ORDER BY substr(closed_at, 1, 10), model COLLATE "C" NULLS FIRST`

const AUDIT = `SELECT a.workspace_id, a.balance, COALESCE(l.sum, 0) AS ledger_sum
  FROM credit_accounts a
  LEFT JOIN (SELECT workspace_id, SUM(delta) AS sum FROM credit_ledger GROUP BY workspace_id) l
    ON l.workspace_id = a.workspace_id
  WHERE a.balance != COALESCE(l.sum, 0)`
