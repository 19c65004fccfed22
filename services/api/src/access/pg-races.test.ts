import { afterEach, describe, expect, it } from 'vitest'
import type { Postgres } from '../db/pg-client.ts'
import { systemClock } from '../ids.ts'
import type { ClaimAttempt } from './idempotency-store.ts'
import { InsufficientCreditsError, ReservationClosedError } from './ledger-errors.ts'
import { PgIdempotencyStore } from './pg-idempotency-store.ts'
import { createPgLedger } from './pg-ledger.ts'
import { tokenSequence } from './testing/idempotency-stores.ts'
import { type PgAccessDatabase, pgAccessDatabase } from './testing/pg-access-database.ts'

/**
 * Races between two pools on one database, standing in for two instances: every guarantee here
 * has to come from PostgreSQL (row locks, unique indexes), since no JavaScript is shared between
 * the two sides' transactions.
 */
const open: PgAccessDatabase[] = []

afterEach(async () => {
  await Promise.all(open.splice(0).map((database) => database.close()))
})

async function twoInstances() {
  const database = await pgAccessDatabase(['ws', 'other'])
  open.push(database)
  const instances = [database.postgres, await database.openAnother()].map((postgres, index) => {
    const ledger = createPgLedger(postgres.pool, {
      clock: systemClock,
      newId: tokenSequence(`rsv_${index}`),
    })
    return { postgres, ledger, store: new PgIdempotencyStore(postgres.pool, ledger) }
  })
  const count = async (sql: string, ...params: unknown[]) =>
    Number((await database.postgres.pool.query<{ n: string }>(sql, params)).rows[0]?.n)
  return { instances, count, pool: database.postgres.pool }
}

/** Resolves once some session on the database waits for a lock another one holds. */
async function waitForLockWaiter(pool: Postgres['pool']) {
  for (let tries = 0; tries < 200; tries += 1) {
    const { rows } = await pool.query(
      "SELECT 1 FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'",
    )
    if (rows.length > 0) {
      return
    }
    await new Promise((resolve) => setTimeout(resolve, 25))
  }
  throw new Error('nobody came to wait for the lock')
}

const attempt = (token: string): ClaimAttempt => ({
  token,
  fingerprint: 'fp',
  nowMs: 1000,
  leaseUntilMs: 61_000,
  expiresAtMs: 86_401_000,
})

describe('the PostgreSQL ledger across two instances', () => {
  it('50 reservations against a balance for 10 → exactly 10 succeed, balance 0, ledger agrees', async () => {
    const { instances, count } = await twoInstances()
    await instances[0]?.ledger.grant('ws', 70)
    const results = await Promise.allSettled(
      Array.from({ length: 50 }, (_, index) =>
        instances[index % 2]?.ledger.reserve('ws', 7, `req_${index}`),
      ),
    )
    const refused = results.filter((result) => result.status === 'rejected')
    expect(results.filter((result) => result.status === 'fulfilled')).toHaveLength(10)
    for (const result of refused) {
      expect(result.status === 'rejected' && result.reason).toBeInstanceOf(InsufficientCreditsError)
    }
    expect(await instances[1]?.ledger.balance('ws')).toBe(0)
    expect(await count("SELECT COUNT(*) AS n FROM credit_ledger WHERE kind = 'reserve'")).toBe(10)
    expect(await count("SELECT SUM(delta) AS n FROM credit_ledger WHERE workspace_id = 'ws'")).toBe(
      0,
    )
    expect(await instances[0]?.ledger.audit()).toEqual([])
  })

  it('one reference reserved from both instances at once → one hold, one debit', async () => {
    const { instances, count } = await twoInstances()
    await instances[0]?.ledger.grant('ws', 100)
    const holds = await Promise.all(
      Array.from({ length: 10 }, (_, index) =>
        instances[index % 2]?.ledger.reserve('ws', 30, 'att_shared'),
      ),
    )
    expect(new Set(holds.map((hold) => hold?.id)).size).toBe(1)
    expect(await instances[1]?.ledger.balance('ws')).toBe(70)
    expect(await count("SELECT COUNT(*) AS n FROM credit_ledger WHERE kind = 'reserve'")).toBe(1)
  })

  it('a reference another workspace takes mid-reservation → ReservationConflictError, nothing debited', async () => {
    const { instances, pool } = await twoInstances()
    await instances[0]?.ledger.grant('ws', 100)
    // Another transaction holds the reference's index entry; the reservation has to wait for it.
    const rival = await pool.connect()
    try {
      await rival.query('BEGIN')
      await rival.query(
        `INSERT INTO credit_reservations (id, workspace_id, reference, amount, state, created_at)
         VALUES ('rsv_rival', 'other', 'att_taken', 0, 'held', '2030-01-01T00:00:00.000Z')`,
      )
      const reserving = expect(instances[1]?.ledger.reserve('ws', 30, 'att_taken')).rejects.toThrow(
        /took it meanwhile/,
      )
      await waitForLockWaiter(pool)
      await rival.query('COMMIT')
      await reserving
    } finally {
      rival.release()
    }
    expect(await instances[0]?.ledger.balance('ws')).toBe(100)
  })

  it('a settle racing a release of one reservation → exactly one wins, every time', async () => {
    const { instances, count } = await twoInstances()
    const [first, second] = instances
    if (!first || !second) {
      throw new Error('two instances expected')
    }
    await first.ledger.grant('ws', 1000)
    const rounds = 20
    for (let round = 0; round < rounds; round += 1) {
      const held = await first.ledger.reserve('ws', 10, `race_${round}`)
      const [settle, release] = await Promise.allSettled([
        first.ledger.settle(held.id, 4),
        second.ledger.release(held.id),
      ])
      const winners = [settle, release].filter((result) => result.status === 'fulfilled')
      expect(winners).toHaveLength(1)
      const loser = [settle, release].find((result) => result.status === 'rejected')
      expect(loser?.status === 'rejected' && loser.reason).toBeInstanceOf(ReservationClosedError)
    }
    const closes = await count(
      "SELECT COUNT(*) AS n FROM credit_ledger WHERE kind IN ('settle', 'release')",
    )
    expect(closes).toBe(rounds)
    const settled = await count(
      "SELECT COUNT(*) AS n FROM credit_reservations WHERE state = 'settled'",
    )
    expect(await first.ledger.balance('ws')).toBe(1000 - 4 * settled)
    expect(await second.ledger.audit()).toEqual([])
  })
})

describe('the PostgreSQL idempotency store across two instances', () => {
  it('one key claimed from both instances at once → exactly one claim', async () => {
    const { instances, count } = await twoInstances()
    const scope = { workspaceId: 'ws', key: 'same-moment' }
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, index) =>
        instances[index % 2]?.store.claim(scope, attempt(`tok_${index}`)),
      ),
    )
    const winners = results.filter((result) => result?.claimed)
    expect(winners).toHaveLength(1)
    const winner = winners[0]?.record.token
    for (const result of results) {
      expect(result?.record.token).toBe(winner)
    }
    expect(await count('SELECT COUNT(*) AS n FROM idempotency_keys')).toBe(1)
  })

  it('a lapsed lease taken over from both instances at once → one new owner', async () => {
    const { instances } = await twoInstances()
    const scope = { workspaceId: 'ws', key: 'crashed' }
    await instances[0]?.store.claim(scope, attempt('tok_crashed'))
    const later = (token: string) => ({ ...attempt(token), nowMs: 61_000, leaseUntilMs: 121_000 })
    const results = await Promise.all(
      Array.from({ length: 10 }, (_, index) =>
        instances[index % 2]?.store.claim(scope, later(`tok_${index}`)),
      ),
    )
    const winners = results.filter((result) => result?.claimed)
    expect(winners).toHaveLength(1)
    expect(winners[0]).toMatchObject({ superseded: 'tok_crashed' })
    expect(await instances[1]?.store.get(scope)).toMatchObject({
      token: winners[0]?.record.token,
    })
  })

  it('a completion racing a release of the same attempt → one closes the reservation', async () => {
    const { instances, count } = await twoInstances()
    const [first, second] = instances
    if (!first || !second) {
      throw new Error('two instances expected')
    }
    await first.ledger.grant('ws', 100)
    const scope = { workspaceId: 'ws', key: 'finish-once' }
    await first.store.claim(scope, attempt('owner'))
    const held = await first.ledger.reserve('ws', 30, 'owner')
    const response = { status: 200, headers: [], body: new Uint8Array([1]) }
    const [completed, released] = await Promise.all([
      first.store.complete(scope, 'owner', response, 86_401_000, {
        reservationId: held.id,
        charge: { units: 20, images: 1 },
      }),
      second.store.release(scope, 'owner', { reservationId: held.id }),
    ])
    expect([completed, released].filter(Boolean)).toHaveLength(1)
    const closed = await first.ledger.getReservation(held.id)
    expect(closed?.state).toBe(completed ? 'settled' : 'released')
    expect(await first.ledger.balance('ws')).toBe(completed ? 80 : 100)
    expect(await count('SELECT COUNT(*) AS n FROM idempotency_keys')).toBe(completed ? 1 : 0)
    expect(await second.ledger.audit()).toEqual([])
  })
})
