import type pg from 'pg'
import { inPgTransaction } from '../db/pg-transaction.ts'
import {
  type ClaimResult,
  type IdempotencyRecord,
  type IdempotencyScope,
  type IdempotencyStore,
  planClaim,
} from './idempotency-store.ts'
import type { ReservationClose } from './ledger-types.ts'
import type { PgReservationCloser } from './pg-ledger.ts'

/** idempotency_keys as node-postgres returns it: 64-bit columns arrive as strings. */
type Row = {
  token: string
  fingerprint: string
  state: 'in_flight' | 'completed'
  created_at_ms: string
  expires_at_ms: string
  lease_until_ms: string | null
  response_status: number | null
  response_headers: string | null
  response_body: Buffer | null
}

function toRecord(row: Row): IdempotencyRecord {
  const base = {
    token: row.token,
    fingerprint: row.fingerprint,
    createdAtMs: Number(row.created_at_ms),
    expiresAtMs: Number(row.expires_at_ms),
  }
  if (row.state === 'in_flight') {
    return { ...base, state: 'in_flight', leaseUntilMs: Number(row.lease_until_ms ?? 0) }
  }
  return {
    ...base,
    state: 'completed',
    response: {
      status: row.response_status ?? 0,
      headers: JSON.parse(row.response_headers ?? '[]') as [string, string][],
      body: new Uint8Array(row.response_body ?? Buffer.alloc(0)),
    },
  }
}

const SELECT = 'SELECT * FROM idempotency_keys WHERE workspace_id = $1 AND idempotency_key = $2'

/**
 * The IdempotencyStore port on PostgreSQL, shared by every instance on the database. A claim
 * first tries INSERT … ON CONFLICT DO NOTHING: of any number of concurrent first claims the
 * primary key lets exactly one row in, and the others wait for its commit and then see it. A
 * claim that finds a row locks it (SELECT … FOR UPDATE) and lets `planClaim` decide, so a
 * replace or take-over is one decision too. Completion and release lock the record, check the
 * token still owns it, and close the ReservationClose through `ledger` in the same
 * transaction: the answer kept and the credits moved commit together or not at all.
 */
export class PgIdempotencyStore implements IdempotencyStore {
  readonly #pool: pg.Pool
  readonly #ledger: PgReservationCloser | undefined

  constructor(pool: pg.Pool, ledger?: PgReservationCloser) {
    this.#pool = pool
    this.#ledger = ledger
  }

  claim: IdempotencyStore['claim'] = (scope, attempt) =>
    inPgTransaction(this.#pool, async (client): Promise<ClaimResult> => {
      const record = {
        state: 'in_flight' as const,
        token: attempt.token,
        fingerprint: attempt.fingerprint,
        createdAtMs: attempt.nowMs,
        expiresAtMs: attempt.expiresAtMs,
        leaseUntilMs: attempt.leaseUntilMs,
      }
      // A record released between the INSERT and the SELECT leaves nothing to lock: try again.
      for (;;) {
        const inserted = await client.query(
          `INSERT INTO idempotency_keys (workspace_id, idempotency_key, token, fingerprint, state,
             created_at_ms, expires_at_ms, lease_until_ms)
           VALUES ($1, $2, $3, $4, 'in_flight', $5, $6, $7) ON CONFLICT DO NOTHING`,
          [scope.workspaceId, scope.key, ...recordParams(record)],
        )
        if (inserted.rowCount === 1) {
          return { claimed: true, record }
        }
        const existing = await this.#locked(client, scope)
        if (!existing) {
          continue
        }
        const plan = planClaim(existing, attempt)
        if (plan === 'blocked') {
          return { claimed: false, record: existing }
        }
        const taken =
          plan === 'take_over' ? { ...record, createdAtMs: existing.createdAtMs } : record
        await client.query(
          `UPDATE idempotency_keys SET token = $3, fingerprint = $4, state = 'in_flight',
             created_at_ms = $5, expires_at_ms = $6, lease_until_ms = $7,
             response_status = NULL, response_headers = NULL, response_body = NULL
           WHERE workspace_id = $1 AND idempotency_key = $2`,
          [scope.workspaceId, scope.key, ...recordParams(taken)],
        )
        return plan === 'take_over'
          ? { claimed: true, record: taken, superseded: existing.token }
          : { claimed: true, record: taken }
      }
    })

  complete: IdempotencyStore['complete'] = (scope, token, response, expiresAtMs, reservation) =>
    inPgTransaction(this.#pool, async (client) => {
      if (!(await this.#closeIfOwned(client, scope, token, reservation))) {
        return false
      }
      await client.query(
        `UPDATE idempotency_keys SET state = 'completed', lease_until_ms = NULL,
           expires_at_ms = $3, response_status = $4, response_headers = $5, response_body = $6
         WHERE workspace_id = $1 AND idempotency_key = $2`,
        [
          scope.workspaceId,
          scope.key,
          expiresAtMs,
          response.status,
          JSON.stringify(response.headers),
          Buffer.from(response.body.buffer, response.body.byteOffset, response.body.byteLength),
        ],
      )
      return true
    })

  release: IdempotencyStore['release'] = (scope, token, reservation) =>
    inPgTransaction(this.#pool, async (client) => {
      if (!(await this.#closeIfOwned(client, scope, token, reservation))) {
        return false
      }
      await client.query(
        'DELETE FROM idempotency_keys WHERE workspace_id = $1 AND idempotency_key = $2',
        [scope.workspaceId, scope.key],
      )
      return true
    })

  get: IdempotencyStore['get'] = async (scope) => {
    const { rows } = await this.#pool.query<Row>(SELECT, [scope.workspaceId, scope.key])
    return rows[0] ? toRecord(rows[0]) : undefined
  }

  purgeExpired: IdempotencyStore['purgeExpired'] = async (nowMs) =>
    (await this.#pool.query('DELETE FROM idempotency_keys WHERE expires_at_ms <= $1', [nowMs]))
      .rowCount ?? 0

  async #locked(client: pg.PoolClient, scope: IdempotencyScope) {
    const { rows } = await client.query<Row>(`${SELECT} FOR UPDATE`, [scope.workspaceId, scope.key])
    return rows[0] ? toRecord(rows[0]) : undefined
  }

  /** Locks the record and closes the reservation while `token` still owns it in flight. */
  async #closeIfOwned(
    client: pg.PoolClient,
    scope: IdempotencyScope,
    token: string,
    reservation: ReservationClose | undefined,
  ) {
    const record = await this.#locked(client, scope)
    if (record?.state !== 'in_flight' || record.token !== token) {
      return false
    }
    if (reservation) {
      if (!this.#ledger) {
        throw new Error('this idempotency store was opened without the ledger')
      }
      await this.#ledger.closeWithin(client, reservation)
    }
    return true
  }
}

const recordParams = (record: {
  token: string
  fingerprint: string
  createdAtMs: number
  expiresAtMs: number
  leaseUntilMs: number
}) => [
  record.token,
  record.fingerprint,
  record.createdAtMs,
  record.expiresAtMs,
  record.leaseUntilMs,
]
