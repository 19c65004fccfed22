import { afterEach, describe, expect, it } from 'vitest'
import { type ClaimAttempt, planClaim } from './idempotency-store.ts'
import { ReservationNotFoundError } from './ledger-errors.ts'
import { SqliteIdempotencyStore } from './sqlite-idempotency-store.ts'
import { accessDatabase } from './testing/access-database.ts'
import { type IdempotencyFixture, idempotencyStores } from './testing/idempotency-stores.ts'

const attempt = (overrides: Partial<ClaimAttempt> = {}): ClaimAttempt => ({
  token: 't2',
  fingerprint: 'fp',
  nowMs: 1000,
  leaseUntilMs: 2000,
  expiresAtMs: 100_000,
  ...overrides,
})

const scope = { workspaceId: 'ws', key: 'k' }

describe('planClaim', () => {
  const inFlight = {
    state: 'in_flight' as const,
    token: 't1',
    fingerprint: 'fp',
    createdAtMs: 0,
    expiresAtMs: 100_000,
    leaseUntilMs: 1000,
  }
  const completed = {
    state: 'completed' as const,
    token: 't1',
    fingerprint: 'fp',
    createdAtMs: 0,
    expiresAtMs: 100_000,
    response: { status: 200, headers: [], body: new Uint8Array() },
  }

  it.each([
    ['nothing stands', undefined, attempt(), 'insert'],
    ['an expired record', { ...completed, expiresAtMs: 1000 }, attempt(), 'replace'],
    ['a live lease', inFlight, attempt({ nowMs: 999 }), 'blocked'],
    ['a lapsed lease, same request', inFlight, attempt(), 'take_over'],
    ['a lapsed lease, other request', inFlight, attempt({ fingerprint: 'x' }), 'blocked'],
    ['a completed record', completed, attempt(), 'blocked'],
  ] as const)('%s → %s', (_label, existing, next, plan) => {
    expect(planClaim(existing, next)).toBe(plan)
  })
})

describe.each(idempotencyStores)('the %s store', (_name, createFixture) => {
  const open: IdempotencyFixture[] = []
  const fixture = async () => {
    const made = await createFixture()
    open.push(made)
    return made
  }
  afterEach(async () => {
    await Promise.all(open.splice(0).map((made) => made.close()))
  })

  it('completes and releases only for the owning token, and only in flight', async () => {
    const { store } = await fixture()
    expect((await store.claim(scope, attempt({ token: 'owner' }))).claimed).toBe(true)
    const response = {
      status: 200,
      headers: [['a', 'b']] as [string, string][],
      body: new Uint8Array([1, 2, 3]),
    }
    expect(await store.complete(scope, 'intruder', response, 5000)).toBe(false)
    expect(await store.release(scope, 'intruder')).toBe(false)
    expect(await store.complete(scope, 'owner', response, 5000)).toBe(true)
    expect(await store.complete(scope, 'owner', response, 5000)).toBe(false)
    expect(await store.release(scope, 'owner')).toBe(false)
    expect(await store.get(scope)).toMatchObject({
      state: 'completed',
      expiresAtMs: 5000,
      response: { status: 200, headers: [['a', 'b']], body: new Uint8Array([1, 2, 3]) },
    })
  })

  it('hands back copies: changing a returned body changes nothing stored', async () => {
    const { store } = await fixture()
    await store.claim(scope, attempt({ token: 'owner' }))
    const body = new Uint8Array([1, 2, 3])
    await store.complete(scope, 'owner', { status: 200, headers: [], body }, 5000)
    body[0] = 9
    const first = await store.get(scope)
    if (first?.state === 'completed') {
      first.response.body[1] = 9
    }
    const again = await store.get(scope)
    expect(again?.state === 'completed' && [...again.response.body]).toEqual([1, 2, 3])
  })

  it('keeps the creation time on take-over and reports whom it superseded', async () => {
    const { store } = await fixture()
    await store.claim(scope, attempt({ token: 'first', nowMs: 10, leaseUntilMs: 20 }))
    const result = await store.claim(
      scope,
      attempt({ token: 'second', nowMs: 20, leaseUntilMs: 40 }),
    )
    expect(result).toMatchObject({
      claimed: true,
      superseded: 'first',
      record: { token: 'second', createdAtMs: 10, leaseUntilMs: 40 },
    })
  })

  it('closes the reservation in the commit that completes or releases, only while owned', async () => {
    const { store, ledger } = await fixture()
    await ledger.grant('ws', 100)
    await store.claim(scope, attempt({ token: 'owner' }))
    const kept = await ledger.reserve('ws', 30, 'owner')
    const response = { status: 200, headers: [], body: new Uint8Array([1]) }
    const charge = { units: 20, images: 1 }
    expect(
      await store.complete(scope, 'intruder', response, 5000, { reservationId: kept.id, charge }),
    ).toBe(false)
    expect((await ledger.getReservation(kept.id))?.state).toBe('held')
    expect(
      await store.complete(scope, 'owner', response, 5000, { reservationId: kept.id, charge }),
    ).toBe(true)
    expect(await ledger.getReservation(kept.id)).toMatchObject({
      state: 'settled',
      settledAmount: 20,
      images: 1,
    })

    const other = { workspaceId: 'ws', key: 'k2' }
    await store.claim(other, attempt({ token: 'second' }))
    const dropped = await ledger.reserve('ws', 30, 'second')
    expect(await store.release(other, 'second', { reservationId: dropped.id })).toBe(true)
    expect((await ledger.getReservation(dropped.id))?.state).toBe('released')
    expect(await ledger.balance('ws')).toBe(80)
    expect(await ledger.audit()).toEqual([])
  })

  it('rolls the completion back when its reservation cannot be closed', async () => {
    const { store } = await fixture()
    await store.claim(scope, attempt({ token: 'owner' }))
    const response = { status: 200, headers: [], body: new Uint8Array([1]) }
    await expect(
      store.complete(scope, 'owner', response, 5000, { reservationId: 'rsv_missing' }),
    ).rejects.toThrow(ReservationNotFoundError)
    expect(await store.get(scope)).toMatchObject({ state: 'in_flight', token: 'owner' })
    await expect(store.release(scope, 'owner', { reservationId: 'rsv_missing' })).rejects.toThrow(
      ReservationNotFoundError,
    )
    expect(await store.get(scope)).toMatchObject({ state: 'in_flight', token: 'owner' })
  })
})

describe('SqliteIdempotencyStore', () => {
  it('keeps its records across store instances on one database', async () => {
    const sqlite = accessDatabase()
    const store = new SqliteIdempotencyStore(sqlite)
    await store.claim(scope, attempt({ token: 'owner' }))
    const reopened = new SqliteIdempotencyStore(sqlite)
    expect(await reopened.get(scope)).toMatchObject({ state: 'in_flight', token: 'owner' })
  })

  it('refuses rows that break the state rules', () => {
    const sqlite = accessDatabase()
    expect(() =>
      sqlite
        .prepare(
          `INSERT INTO idempotency_keys (workspace_id, idempotency_key, token, fingerprint, state,
             created_at_ms, expires_at_ms) VALUES ('w', 'k', 't', 'f', 'in_flight', 0, 1)`,
        )
        .run(),
    ).toThrow(/CHECK/)
  })
})
