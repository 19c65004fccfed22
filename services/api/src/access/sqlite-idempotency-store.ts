import type Sqlite from 'better-sqlite3'
import {
  type IdempotencyRecord,
  type IdempotencyScope,
  type IdempotencyStore,
  planClaim,
} from './idempotency-store.ts'

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
 * wins. Inside an outer transaction better-sqlite3 turns these into savepoints. The table
 * comes from the Drizzle migrations (`db/schema/idempotency.ts`).
 */
export class SqliteIdempotencyStore implements IdempotencyStore {
  readonly #sqlite: Sqlite.Database
  #statements?: ReturnType<typeof prepare>

  constructor(sqlite: Sqlite.Database) {
    this.#sqlite = sqlite
  }

  get #sql() {
    this.#statements ??= prepare(this.#sqlite)
    return this.#statements
  }

  claim: IdempotencyStore['claim'] = (scope, attempt) =>
    this.#sqlite
      .transaction(() => {
        const existing = this.get(scope)
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
      .immediate()

  complete: IdempotencyStore['complete'] = (scope, token, response, expiresAtMs) =>
    this.#sql.complete.run({
      ...scopeParams(scope),
      token,
      expiresAtMs,
      status: response.status,
      headers: JSON.stringify(response.headers),
      body: Buffer.from(response.body.buffer, response.body.byteOffset, response.body.byteLength),
    }).changes === 1

  release: IdempotencyStore['release'] = (scope, token) =>
    this.#sql.release.run({ ...scopeParams(scope), token }).changes === 1

  get: IdempotencyStore['get'] = (scope) => {
    const row = this.#sql.get.get(scopeParams(scope)) as Row | undefined
    return row ? toRecord(row) : undefined
  }

  purgeExpired: IdempotencyStore['purgeExpired'] = (nowMs) => this.#sql.purge.run({ nowMs }).changes

  transaction<T>(work: () => T): T {
    return this.#sqlite.transaction(work).immediate()
  }
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
