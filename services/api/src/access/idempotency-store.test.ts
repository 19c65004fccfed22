import { describe, expect, it } from 'vitest'
import { type ClaimAttempt, planClaim } from './idempotency-store.ts'
import { SqliteIdempotencyStore } from './sqlite-idempotency-store.ts'
import { accessDatabase } from './testing/access-database.ts'
import { idempotencyStores } from './testing/idempotency-stores.ts'

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

describe.each(idempotencyStores)('the %s store', (_name, createStore) => {
  it('completes and releases only for the owning token, and only in flight', () => {
    const store = createStore()
    expect(store.claim(scope, attempt({ token: 'owner' })).claimed).toBe(true)
    const response = {
      status: 200,
      headers: [['a', 'b']] as [string, string][],
      body: new Uint8Array([1, 2, 3]),
    }
    expect(store.complete(scope, 'intruder', response, 5000)).toBe(false)
    expect(store.release(scope, 'intruder')).toBe(false)
    expect(store.complete(scope, 'owner', response, 5000)).toBe(true)
    expect(store.complete(scope, 'owner', response, 5000)).toBe(false)
    expect(store.release(scope, 'owner')).toBe(false)
    expect(store.get(scope)).toMatchObject({
      state: 'completed',
      expiresAtMs: 5000,
      response: { status: 200, headers: [['a', 'b']], body: new Uint8Array([1, 2, 3]) },
    })
  })

  it('hands back copies: changing a returned body changes nothing stored', () => {
    const store = createStore()
    store.claim(scope, attempt({ token: 'owner' }))
    const body = new Uint8Array([1, 2, 3])
    store.complete(scope, 'owner', { status: 200, headers: [], body }, 5000)
    body[0] = 9
    const first = store.get(scope)
    if (first?.state === 'completed') {
      first.response.body[1] = 9
    }
    const again = store.get(scope)
    expect(again?.state === 'completed' && [...again.response.body]).toEqual([1, 2, 3])
  })

  it('keeps the creation time on take-over and reports whom it superseded', () => {
    const store = createStore()
    store.claim(scope, attempt({ token: 'first', nowMs: 10, leaseUntilMs: 20 }))
    const result = store.claim(scope, attempt({ token: 'second', nowMs: 20, leaseUntilMs: 40 }))
    expect(result).toMatchObject({
      claimed: true,
      superseded: 'first',
      record: { token: 'second', createdAtMs: 10, leaseUntilMs: 40 },
    })
  })

  it('rolls back everything in a transaction that throws', () => {
    const store = createStore()
    store.claim(scope, attempt({ token: 'owner' }))
    expect(() =>
      store.transaction(() => {
        store.release(scope, 'owner')
        throw new Error('settle failed')
      }),
    ).toThrow('settle failed')
    if (store instanceof SqliteIdempotencyStore) {
      expect(store.get(scope)?.token).toBe('owner')
    }
  })
})

describe('SqliteIdempotencyStore', () => {
  it('keeps its records across store instances on one database', () => {
    const sqlite = accessDatabase()
    const store = new SqliteIdempotencyStore(sqlite)
    store.claim(scope, attempt({ token: 'owner' }))
    const reopened = new SqliteIdempotencyStore(sqlite)
    expect(reopened.get(scope)).toMatchObject({ state: 'in_flight', token: 'owner' })
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
