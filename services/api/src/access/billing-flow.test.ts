import { describe, expect, it } from 'vitest'
import { requestFingerprint } from './fingerprint.ts'
import { createIdempotency, type IdempotencyClaim } from './idempotency-claims.ts'
import type { StoredResponse } from './idempotency-store.ts'
import type { ReservationClose } from './ledger-types.ts'
import { SqliteIdempotencyStore } from './sqlite-idempotency-store.ts'
import { accessDatabase } from './testing/access-database.ts'
import { tokenSequence } from './testing/idempotency-stores.ts'
import { ledgerFixture } from './testing/ledger-fixture.ts'

/**
 * The charged-request sequence the integration wires up, with the idempotency table and the
 * ledger on one connection: claim → reserve (reference = attempt token) → upstream → finish,
 * settling or releasing inside the same commit that stores or releases the key.
 */
const LEASE_MS = 5 * 60_000
const COST = 7

function setup() {
  const sqlite = accessDatabase()
  const { ledger, clock, count } = ledgerFixture(sqlite)
  const store = new SqliteIdempotencyStore(sqlite, ledger.core)
  const idempotency = createIdempotency({
    store,
    clock,
    newToken: tokenSequence(),
    leaseMs: LEASE_MS,
  })
  const request = {
    workspaceId: 'ws',
    key: 'retry-me',
    fingerprint: requestFingerprint({
      method: 'POST',
      route: '/v1/images/generations',
      body: { prompt: 'fox' },
    }),
  }
  const entries = (kind: string) =>
    count(`SELECT COUNT(*) AS n FROM credit_ledger WHERE kind = '${kind}'`)
  return { sqlite, ledger, clock, store, idempotency, request, entries }
}

const response = (status: number, text: string): StoredResponse => ({
  status,
  headers: [['content-type', 'application/json']],
  body: new TextEncoder().encode(text),
})

/** Settle for `units` when the answer is kept, release otherwise. */
const closingFor =
  (reservationId: string, units: number) =>
  (way: 'stored' | 'released'): ReservationClose =>
    way === 'stored' ? { reservationId, charge: { units, images: 1 } } : { reservationId }

describe('charged requests', () => {
  it('I1: five sends of one request → one upstream call, one debit, identical answers', async () => {
    const { ledger, idempotency, request, entries } = setup()
    await ledger.grant('ws', 100)
    let upstreamCalls = 0
    const bodies: string[] = []
    for (let send = 0; send < 5; send += 1) {
      const outcome = await idempotency.begin(request)
      if (outcome.outcome === 'claimed') {
        const { claim } = outcome
        const reservation = await ledger.reserve('ws', COST, claim.token, { model: 'gpt-image-1' })
        upstreamCalls += 1
        const answer = response(200, '{"data":[{"b64_json":"iVBORw0KGgo="}]}')
        await idempotency.finish(claim, answer, closingFor(reservation.id, COST))
        bodies.push(new TextDecoder().decode(answer.body))
      } else if (outcome.outcome === 'replay') {
        bodies.push(new TextDecoder().decode(outcome.response.body))
      }
    }
    expect(upstreamCalls).toBe(1)
    expect(new Set(bodies).size).toBe(1)
    expect(bodies).toHaveLength(5)
    expect(await ledger.balance('ws')).toBe(100 - COST)
    expect([entries('reserve'), entries('settle'), entries('release')]).toEqual([1, 1, 0])
  })

  it('I5: a crash mid-flight, then a retry after the lease → exactly one net debit', async () => {
    const { ledger, clock, idempotency, request, entries } = setup()
    await ledger.grant('ws', 100)
    const crashed = await idempotency.begin(request)
    if (crashed.outcome !== 'claimed') {
      throw new Error('first attempt must claim')
    }
    await ledger.reserve('ws', COST, crashed.claim.token)
    // The process dies here: no settle, no release, the key still in flight.
    clock.advance(LEASE_MS)
    const retry = await idempotency.begin(request)
    if (retry.outcome !== 'claimed') {
      throw new Error('the retry must take the key over')
    }
    const claim: IdempotencyClaim = retry.claim
    expect(claim.superseded).toBe(crashed.claim.token)
    const reservation = await ledger.reserve('ws', COST, claim.token, {
      ...(claim.superseded ? { supersedes: claim.superseded } : {}),
    })
    expect(
      await idempotency.finish(claim, response(200, '{"ok":1}'), closingFor(reservation.id, COST)),
    ).toBe('stored')
    expect(await ledger.balance('ws')).toBe(100 - COST)
    expect([entries('reserve'), entries('settle'), entries('release')]).toEqual([2, 1, 1])
    expect(await ledger.audit()).toEqual([])
  })

  it('a crash whose client never retries: the stale-hold sweep gives the credits back', async () => {
    const { ledger, clock, idempotency, request } = setup()
    await ledger.grant('ws', 100)
    const crashed = await idempotency.begin(request)
    if (crashed.outcome !== 'claimed') {
      throw new Error('first attempt must claim')
    }
    await ledger.reserve('ws', COST, crashed.claim.token)
    clock.advance(LEASE_MS + 1)
    expect(await ledger.releaseStale(new Date(clock.ms() - LEASE_MS))).toBe(1)
    expect(await ledger.balance('ws')).toBe(100)
  })

  it('a 503 releases the credits and the key in one commit; the retry is charged once', async () => {
    const { ledger, idempotency, request, entries } = setup()
    await ledger.grant('ws', 100)
    const first = await idempotency.begin(request)
    if (first.outcome !== 'claimed') {
      throw new Error('must claim')
    }
    const held = await ledger.reserve('ws', COST, first.claim.token)
    const ways: string[] = []
    expect(
      await idempotency.finish(first.claim, response(503, '{"error":{}}'), (way) => {
        ways.push(way)
        return closingFor(held.id, COST)(way)
      }),
    ).toBe('released')
    expect(ways).toEqual(['released'])
    expect(await ledger.balance('ws')).toBe(100)
    const second = await idempotency.begin(request)
    expect(second.outcome).toBe('claimed')
    expect(entries('release')).toBe(1)
  })

  it('a settlement that fails rolls the stored answer back with it', async () => {
    const { ledger, idempotency, request, store } = setup()
    await ledger.grant('ws', 100)
    const outcome = await idempotency.begin(request)
    if (outcome.outcome !== 'claimed') {
      throw new Error('must claim')
    }
    const held = await ledger.reserve('ws', COST, outcome.claim.token)
    await ledger.release(held.id)
    await expect(
      idempotency.finish(outcome.claim, response(200, '{}'), closingFor(held.id, COST)),
    ).rejects.toThrow(/already released/)
    expect((await store.get({ workspaceId: 'ws', key: 'retry-me' }))?.state).toBe('in_flight')
    expect(await ledger.balance('ws')).toBe(100)
  })
})
