import { createHash } from 'node:crypto'
import { afterEach, describe, expect, it } from 'vitest'
import { manualClock } from '../providers/resilience/testing/manual-clock.ts'
import { requestFingerprint } from './fingerprint.ts'
import {
  type BeginOutcome,
  createIdempotency,
  IDEMPOTENCY_RETENTION_MS,
  isStorableStatus,
} from './idempotency-claims.ts'
import type { IdempotencyStore, StoredResponse } from './idempotency-store.ts'
import {
  type IdempotencyFixture,
  idempotencyStores,
  sqliteIdempotencyFixture,
  tokenSequence,
} from './testing/idempotency-stores.ts'

const LEASE_MS = 5 * 60_000
const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex')
const encode = (text: string) => new TextEncoder().encode(text)

const generation = (prompt: string) =>
  requestFingerprint({ method: 'POST', route: '/v1/images/generations', body: { prompt, n: 1 } })

const ok = (text: string, status = 200): StoredResponse => ({
  status,
  headers: [
    ['content-type', 'application/json'],
    ['x-imagegate-generation', 'gen_1'],
  ],
  body: encode(text),
})

function setup(store: IdempotencyStore) {
  const clock = manualClock()
  const idempotency = createIdempotency({
    store,
    clock,
    newToken: tokenSequence(),
    leaseMs: LEASE_MS,
  })
  return { clock, idempotency, store }
}

const request = (key: string, prompt = 'a red fox', workspaceId = 'ws_a') => ({
  workspaceId,
  key,
  fingerprint: generation(prompt),
})

function claimed(outcome: BeginOutcome) {
  if (outcome.outcome !== 'claimed') {
    throw new Error(`expected a claim, got ${outcome.outcome}`)
  }
  return outcome.claim
}

describe('isStorableStatus', () => {
  it.each([
    [200, true],
    [201, true],
    [400, true],
    [402, true],
    [404, true],
    [422, true],
    [429, false],
    [500, false],
    [502, false],
    [503, false],
    [504, false],
  ])('%d → %s', (status, storable) => {
    expect(isStorableStatus(status)).toBe(storable)
  })
})

describe('createIdempotency', () => {
  it('refuses a lease that is not shorter than the retention', async () => {
    const { store, close } = sqliteIdempotencyFixture()
    const base = { store, clock: manualClock(), newToken: tokenSequence() }
    expect(() => createIdempotency({ ...base, leaseMs: 0 })).toThrow(RangeError)
    expect(() => createIdempotency({ ...base, leaseMs: IDEMPOTENCY_RETENTION_MS })).toThrow(
      RangeError,
    )
    await close()
  })
})

describe.each(idempotencyStores)('idempotency over the %s store', (_name, createFixture) => {
  const open: IdempotencyFixture[] = []
  const fixture = async () => {
    const made = await createFixture()
    open.push(made)
    return made
  }
  afterEach(async () => {
    await Promise.all(open.splice(0).map((made) => made.close()))
  })

  it('I1: same key, same request ×5 → one run, then byte-identical replays', async () => {
    const { idempotency } = setup((await fixture()).store)
    let upstreamCalls = 0
    const responses: StoredResponse[] = []
    for (let attempt = 0; attempt < 5; attempt += 1) {
      const outcome = await idempotency.begin(request('k1'))
      if (outcome.outcome === 'claimed') {
        upstreamCalls += 1
        const response = ok('{"created":1,"data":[{"b64_json":"iVBORw0KGgo="}]}')
        expect(await idempotency.finish(outcome.claim, response)).toBe('stored')
        responses.push(response)
      } else if (outcome.outcome === 'replay') {
        responses.push(outcome.response)
      } else {
        throw new Error(`unexpected ${outcome.outcome}`)
      }
    }
    expect(upstreamCalls).toBe(1)
    expect(new Set(responses.map((response) => sha256(response.body))).size).toBe(1)
    expect(new Set(responses.map((response) => response.status))).toEqual(new Set([200]))
    for (const response of responses) {
      expect(response.headers).toEqual(responses[0]?.headers)
    }
  })

  it('I2: same key, different request → reused, while in flight and after completion', async () => {
    const { idempotency } = setup((await fixture()).store)
    const claim = claimed(await idempotency.begin(request('k1', 'a red fox')))
    expect(await idempotency.begin(request('k1', 'a blue fox'))).toEqual({ outcome: 'reused' })
    await idempotency.finish(claim, ok('{}'))
    expect(await idempotency.begin(request('k1', 'a blue fox'))).toEqual({ outcome: 'reused' })
    const otherRoute = {
      ...request('k1'),
      fingerprint: requestFingerprint({
        method: 'POST',
        route: '/v1/images/edits',
        body: { prompt: 'a red fox', n: 1 },
      }),
    }
    expect(await idempotency.begin(otherRoute)).toEqual({ outcome: 'reused' })
  })

  it('I3: 20 concurrent requests with one key → exactly one runs, the rest are told to wait', async () => {
    const { idempotency } = setup((await fixture()).store)
    let upstreamCalls = 0
    let answered = 0
    let othersAnswered: () => void = () => {}
    const upstreamDone = new Promise<void>((resolve) => {
      othersAnswered = resolve
      // A bounded wait: a second winner would leave the others one short.
      setTimeout(resolve, 5000)
    })
    const handle = async () => {
      await Promise.resolve()
      const outcome = await idempotency.begin(request('k1'))
      if (outcome.outcome === 'claimed') {
        upstreamCalls += 1
        // The upstream call lasts until every other request has its answer, however slowly
        // the store's claims are served.
        await upstreamDone
        await idempotency.finish(outcome.claim, ok('{"one":true}'))
      } else if (++answered === 19) {
        othersAnswered()
      }
      return outcome
    }
    const outcomes = await Promise.all(Array.from({ length: 20 }, handle))
    expect(upstreamCalls).toBe(1)
    expect(outcomes.filter((outcome) => outcome.outcome === 'claimed')).toHaveLength(1)
    const waiting = outcomes.filter((outcome) => outcome.outcome === 'in_use')
    expect(waiting).toHaveLength(19)
    for (const outcome of waiting) {
      expect(outcome.outcome === 'in_use' && outcome.retryAfterMs).toBe(1000)
    }
    const after = await idempotency.begin(request('k1'))
    expect(after.outcome).toBe('replay')
  })

  it('I4: 24 h + 1 s later the key is new again', async () => {
    const { idempotency, clock } = setup((await fixture()).store)
    await idempotency.finish(claimed(await idempotency.begin(request('k1'))), ok('{"first":1}'))
    clock.advance(IDEMPOTENCY_RETENTION_MS - 1)
    expect((await idempotency.begin(request('k1'))).outcome).toBe('replay')
    clock.advance(1001)
    const again = await idempotency.begin(request('k1', 'a different prompt is fine now'))
    expect(again.outcome).toBe('claimed')
  })

  it('I4: the 24 h run from completion, and purging drops only expired records', async () => {
    const { idempotency, clock, store } = setup((await fixture()).store)
    const slow = claimed(await idempotency.begin(request('slow')))
    clock.advance(60_000)
    await idempotency.finish(slow, ok('{}'))
    await idempotency.finish(claimed(await idempotency.begin(request('later'))), ok('{}'))
    clock.advance(IDEMPOTENCY_RETENTION_MS - 30_000)
    expect((await idempotency.begin(request('slow'))).outcome).toBe('replay')
    clock.advance(30_000)
    expect(await idempotency.purgeExpired()).toBe(2)
    expect(await store.get({ workspaceId: 'ws_a', key: 'slow' })).toBeUndefined()
  })

  it('I5: a crash mid-flight leaves a lease that expires, never a stuck key', async () => {
    const { idempotency, clock } = setup((await fixture()).store)
    const crashed = claimed(await idempotency.begin(request('k1')))
    clock.advance(LEASE_MS - 1)
    const waiting = await idempotency.begin(request('k1'))
    expect(waiting).toEqual({ outcome: 'in_use', retryAfterMs: 1 })
    clock.advance(1)
    const retry = claimed(await idempotency.begin(request('k1')))
    expect(retry.superseded).toBe(crashed.token)
    expect(retry.token).not.toBe(crashed.token)
    // The first attempt, if it was only slow, can no longer store or release anything.
    expect(await idempotency.finish(crashed, ok('{"late":1}'))).toBe('lost')
    expect(await idempotency.abandon(crashed)).toBe(false)
    expect(await idempotency.finish(retry, ok('{"retry":1}'))).toBe('stored')
    const replay = await idempotency.begin(request('k1'))
    expect(replay.outcome === 'replay' && new TextDecoder().decode(replay.response.body)).toBe(
      '{"retry":1}',
    )
  })

  it('I5: an expired lease does not let a different request in (still 422)', async () => {
    const { idempotency, clock } = setup((await fixture()).store)
    claimed(await idempotency.begin(request('k1', 'one')))
    clock.advance(LEASE_MS)
    expect(await idempotency.begin(request('k1', 'two'))).toEqual({ outcome: 'reused' })
  })

  it('I6: the same key in two workspaces names two independent requests', async () => {
    const { idempotency } = setup((await fixture()).store)
    const a = claimed(await idempotency.begin(request('shared', 'fox', 'ws_a')))
    const b = claimed(await idempotency.begin(request('shared', 'owl', 'ws_b')))
    await idempotency.finish(a, ok('{"ws":"a"}'))
    await idempotency.finish(b, ok('{"ws":"b"}'))
    const replayA = await idempotency.begin(request('shared', 'fox', 'ws_a'))
    const replayB = await idempotency.begin(request('shared', 'owl', 'ws_b'))
    const text = (outcome: BeginOutcome) =>
      outcome.outcome === 'replay'
        ? new TextDecoder().decode(outcome.response.body)
        : outcome.outcome
    expect([text(replayA), text(replayB)]).toEqual(['{"ws":"a"}', '{"ws":"b"}'])
  })

  it.each([429, 500, 502, 503, 504])('does not keep a %d: the retry runs again', async (status) => {
    const { idempotency } = setup((await fixture()).store)
    const first = claimed(await idempotency.begin(request('k1')))
    expect(await idempotency.finish(first, ok('{"error":{}}', status))).toBe('released')
    const second = await idempotency.begin(request('k1'))
    expect(second.outcome).toBe('claimed')
  })

  it.each([201, 400, 402, 404, 422])('keeps a %d and replays it', async (status) => {
    const { idempotency } = setup((await fixture()).store)
    await idempotency.finish(claimed(await idempotency.begin(request('k1'))), ok('{"x":1}', status))
    const replay = await idempotency.begin(request('k1'))
    expect(replay.outcome === 'replay' && replay.response.status).toBe(status)
  })

  it('closes the reservation named by `closing` in the commit, told which way it went, only while owned', async () => {
    const { store, ledger } = await fixture()
    const { idempotency, clock } = setup(store)
    await ledger.grant('ws_a', 100)
    const seen: string[] = []
    const closing = (name: string, reservationId: string) => (outcome: 'stored' | 'released') => {
      seen.push(`${name}:${outcome}`)
      return outcome === 'stored'
        ? { reservationId, charge: { units: 10, images: 1 } }
        : { reservationId }
    }
    const stored = claimed(await idempotency.begin(request('a')))
    const a = await ledger.reserve('ws_a', 10, stored.token)
    await idempotency.finish(stored, ok('{}'), closing('a', a.id))
    const released = claimed(await idempotency.begin(request('b')))
    const b = await ledger.reserve('ws_a', 10, released.token)
    await idempotency.finish(released, ok('{}', 503), closing('b', b.id))
    const lost = claimed(await idempotency.begin(request('c')))
    const c = await ledger.reserve('ws_a', 10, lost.token)
    clock.advance(LEASE_MS)
    claimed(await idempotency.begin(request('c')))
    expect(await idempotency.finish(lost, ok('{}'), closing('c', c.id))).toBe('lost')
    expect(seen).toEqual(['a:stored', 'b:released', 'c:stored'])
    expect((await ledger.getReservation(a.id))?.state).toBe('settled')
    expect((await ledger.getReservation(b.id))?.state).toBe('released')
    expect((await ledger.getReservation(c.id))?.state).toBe('held')
  })

  it('abandon gives the key back for a retry, and releases the hold with it', async () => {
    const { store, ledger } = await fixture()
    const { idempotency } = setup(store)
    await ledger.grant('ws_a', 100)
    const claim = claimed(await idempotency.begin(request('k1')))
    const held = await ledger.reserve('ws_a', 10, claim.token)
    expect(await idempotency.abandon(claim, () => ({ reservationId: held.id }))).toBe(true)
    expect((await ledger.getReservation(held.id))?.state).toBe('released')
    expect((await idempotency.begin(request('k1'))).outcome).toBe('claimed')
  })
})
