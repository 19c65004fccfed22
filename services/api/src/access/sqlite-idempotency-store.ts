import type Sqlite from 'better-sqlite3'
import {
  type IdempotencyRecord,
  type IdempotencyScope,
  type IdempotencyStore,
  planClaim,
} from './idempotency-store.ts'
import type { ReservationClose } from './ledger-types.ts'
import type { SqliteLedgerCore } from './sqlite-ledger-core.ts'

type Row = {
  token: string
  fingerprint: string
  state: 'in_flight' | 'completed'
  created_at_ms: number
  expires_at_ms: number
  lease_until_ms: number | null
  response_status: number | null
  response_headers: string | null
  response_body: Buffer | null
}

function toRecord(row: Row): IdempotencyRecord {
  const base = {
    token: row.token,
    fingerprint: row.fingerprint,
    createdAtMs: row.created_at_ms,
    expiresAtMs: row.expires_at_ms,
  }
  if (row.state === 'in_flight') {
    return { ...base, state: 'in_flight', leaseUntilMs: row.lease_until_ms ?? 0 }
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

const scopeParams = (scope: IdempotencyScope) => ({ ws: scope.workspaceId, key: scope.key })

/**
 * The durable store. Claims run in an IMMEDIATE transaction (the write lock is taken at BEGIN),
 * so concurrent claims from any number of connections or processes serialise and exactly one
 * wins. A completion or release that carries a ReservationClose closes it with `ledger` (the
 * synchronous ledger on the same connection) in the same transaction. Each method does its
 * work synchronously when called; the Promise is the port's shape. The table comes from the
 * Drizzle migrations (`db/schema/idempotency.ts`).
 */
export class SqliteIdempotencyStore implements IdempotencyStore {
  readonly #sqlite: Sqlite.Database
  readonly #ledger: SqliteLedgerCore | undefined
  #statements?: ReturnType<typeof prepare>

  constructor(sqlite: Sqlite.Database, ledger?: SqliteLedgerCore) {
    this.#sqlite = sqlite
    this.#ledger = ledger
  }

  get #sql() {
    this.#statements ??= prepare(this.#sqlite)
    return this.#statements
  }

  #immediate<T>(work: () => T): Promise<T> {
    try {
      return Promise.resolve(this.#sqlite.transaction(work).immediate())
    } catch (error) {
      return Promise.reject(error)
    }
  }

  #record(scope: IdempotencyScope): IdempotencyRecord | undefined {
    const row = this.#sql.get.get(scopeParams(scope)) as Row | undefined
    return row ? toRecord(row) : undefined
  }

  /** Closes the reservation, in the caller's transaction, only while `token` owns the record. */
  #closeIfOwned(scope: IdempotencyScope, token: string, reservation?: ReservationClose): boolean {
    const record = this.#record(scope)
    if (record?.state !== 'in_flight' || record.token !== token) {
      return false
    }
    if (reservation) {
      if (!this.#ledger) {
        throw new Error('this idempotency store was opened without the ledger')
      }
      this.#ledger.close(reservation)
    }
    return true
  }

  claim: IdempotencyStore['claim'] = (scope, attempt) =>
    this.#immediate(() => {
      const existing = this.#record(scope)
      const plan = planClaim(existing, attempt)
      if (plan === 'blocked' && existing) {
        return { claimed: false as const, record: existing }
      }
      const createdAtMs = plan === 'take_over' && existing ? existing.createdAtMs : attempt.nowMs
      this.#sql.upsertInFlight.run({
        ...scopeParams(scope),
        token: attempt.token,
        fingerprint: attempt.fingerprint,
        createdAtMs,
        expiresAtMs: attempt.expiresAtMs,
        leaseUntilMs: attempt.leaseUntilMs,
      })
      const record = {
        state: 'in_flight' as const,
        token: attempt.token,
        fingerprint: attempt.fingerprint,
        createdAtMs,
        expiresAtMs: attempt.expiresAtMs,
        leaseUntilMs: attempt.leaseUntilMs,
      }
      return plan === 'take_over' && existing
        ? { claimed: true as const, record, superseded: existing.token }
        : { claimed: true as const, record }
    })

  complete: IdempotencyStore['complete'] = (scope, token, response, expiresAtMs, reservation) =>
    this.#immediate(() => {
      if (!this.#closeIfOwned(scope, token, reservation)) {
        return false
      }
      return (
        this.#sql.complete.run({
          ...scopeParams(scope),
          token,
          expiresAtMs,
          status: response.status,
          headers: JSON.stringify(response.headers),
          body: Buffer.from(
            response.body.buffer,
            response.body.byteOffset,
            response.body.byteLength,
          ),
        }).changes === 1
      )
    })

  release: IdempotencyStore['release'] = (scope, token, reservation) =>
    this.#immediate(
      () =>
        this.#closeIfOwned(scope, token, reservation) &&
        this.#sql.release.run({ ...scopeParams(scope), token }).changes === 1,
    )

  get: IdempotencyStore['get'] = async (scope) => this.#record(scope)

  purgeExpired: IdempotencyStore['purgeExpired'] = async (nowMs) =>
    this.#sql.purge.run({ nowMs }).changes
}

function prepare(sqlite: Sqlite.Database) {
  return {
    get: sqlite.prepare(
      'SELECT * FROM idempotency_keys WHERE workspace_id = :ws AND idempotency_key = :key',
    ),
    upsertInFlight: sqlite.prepare(`
      INSERT INTO idempotency_keys (workspace_id, idempotency_key, token, fingerprint, state,
        created_at_ms, expires_at_ms, lease_until_ms)
      VALUES (:ws, :key, :token, :fingerprint, 'in_flight', :createdAtMs, :expiresAtMs, :leaseUntilMs)
      ON CONFLICT (workspace_id, idempotency_key) DO UPDATE SET
        token = excluded.token, fingerprint = excluded.fingerprint, state = 'in_flight',
        created_at_ms = excluded.created_at_ms, expires_at_ms = excluded.expires_at_ms,
        lease_until_ms = excluded.lease_until_ms,
        response_status = NULL, response_headers = NULL, response_body = NULL`),
    complete: sqlite.prepare(`
      UPDATE idempotency_keys SET state = 'completed', lease_until_ms = NULL,
        expires_at_ms = :expiresAtMs, response_status = :status, response_headers = :headers,
        response_body = :body
      WHERE workspace_id = :ws AND idempotency_key = :key AND token = :token
        AND state = 'in_flight'`),
    release: sqlite.prepare(`
      DELETE FROM idempotency_keys
      WHERE workspace_id = :ws AND idempotency_key = :key AND token = :token
        AND state = 'in_flight'`),
    purge: sqlite.prepare('DELETE FROM idempotency_keys WHERE expires_at_ms <= :nowMs'),
  }
}
