import { createHash } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { manualClock } from '../providers/resilience/testing/manual-clock.ts'
import { requestFingerprint } from './fingerprint.ts'
import {
  type BeginOutcome,
  createIdempotency,
  IDEMPOTENCY_RETENTION_MS,
  isStorableStatus,
} from './idempotency-claims.ts'
import type { IdempotencyStore, StoredResponse } from './idempotency-store.ts'
import { idempotencyStores, tokenSequence } from './testing/idempotency-stores.ts'

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
  it('refuses a lease that is not shorter than the retention', () => {
    const [, create] = idempotencyStores[0] ?? []
    const store = (create as () => IdempotencyStore)()
    const base = { store, clock: manualClock(), newToken: tokenSequence() }
    expect(() => createIdempotency({ ...base, leaseMs: 0 })).toThrow(RangeError)
    expect(() => createIdempotency({ ...base, leaseMs: IDEMPOTENCY_RETENTION_MS })).toThrow(
      RangeError,
    )
  })
})

describe.each(idempotencyStores)('idempotency over the %s store', (_name, createStore) => {
  it('I1: same key, same request ×5 → one run, then byte-identical replays', () => {
    const { idempotency } = setup(createStore())
    let upstreamCalls = 0
    const responses: StoredResponse[] = []
    for (let attempt = 0; attempt < 5; attempt += 1) {
      const outcome = idempotency.begin(request('k1'))
      if (outcome.outcome === 'claimed') {
        upstreamCalls += 1
        const response = ok('{"created":1,"data":[{"b64_json":"iVBORw0KGgo="}]}')
        expect(idempotency.finish(outcome.claim, response)).toBe('stored')
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

  it('I2: same key, different request → reused, while in flight and after completion', () => {
    const { idempotency } = setup(createStore())
    const claim = claimed(idempotency.begin(request('k1', 'a red fox')))
    expect(idempotency.begin(request('k1', 'a blue fox'))).toEqual({ outcome: 'reused' })
    idempotency.finish(claim, ok('{}'))
    expect(idempotency.begin(request('k1', 'a blue fox'))).toEqual({ outcome: 'reused' })
    const otherRoute = {
      ...request('k1'),
      fingerprint: requestFingerprint({
        method: 'POST',
        route: '/v1/images/edits',
        body: { prompt: 'a red fox', n: 1 },
      }),
    }
    expect(idempotency.begin(otherRoute)).toEqual({ outcome: 'reused' })
  })

  it('I3: 20 concurrent requests with one key → exactly one runs, the rest are told to wait', async () => {
    const { idempotency } = setup(createStore())
    let upstreamCalls = 0
    const handle = async () => {
      await Promise.resolve()
      const outcome = idempotency.begin(request('k1'))
      if (outcome.outcome === 'claimed') {
        upstreamCalls += 1
        await new Promise((resolve) => setTimeout(resolve, 20))
        idempotency.finish(outcome.claim, ok('{"one":true}'))
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
    const after = idempotency.begin(request('k1'))
    expect(after.outcome).toBe('replay')
  })

  it('I4: 24 h + 1 s later the key is new again', () => {
    const { idempotency, clock } = setup(createStore())
    idempotency.finish(claimed(idempotency.begin(request('k1'))), ok('{"first":1}'))
    clock.advance(IDEMPOTENCY_RETENTION_MS - 1)
    expect(idempotency.begin(request('k1')).outcome).toBe('replay')
    clock.advance(1001)
    const again = idempotency.begin(request('k1', 'a different prompt is fine now'))
    expect(again.outcome).toBe('claimed')
  })

  it('I4: the 24 h run from completion, and purging drops only expired records', () => {
    const { idempotency, clock, store } = setup(createStore())
    const slow = claimed(idempotency.begin(request('slow')))
    clock.advance(60_000)
    idempotency.finish(slow, ok('{}'))
    idempotency.finish(claimed(idempotency.begin(request('later'))), ok('{}'))
    clock.advance(IDEMPOTENCY_RETENTION_MS - 30_000)
    expect(idempotency.begin(request('slow')).outcome).toBe('replay')
    clock.advance(30_000)
    expect(idempotency.purgeExpired()).toBe(2)
    expect(store.get({ workspaceId: 'ws_a', key: 'slow' })).toBeUndefined()
  })

  it('I5: a crash mid-flight leaves a lease that expires, never a stuck key', () => {
    const { idempotency, clock } = setup(createStore())
    const crashed = claimed(idempotency.begin(request('k1')))
    clock.advance(LEASE_MS - 1)
    const waiting = idempotency.begin(request('k1'))
    expect(waiting).toEqual({ outcome: 'in_use', retryAfterMs: 1 })
    clock.advance(1)
    const retry = claimed(idempotency.begin(request('k1')))
    expect(retry.superseded).toBe(crashed.token)
    expect(retry.token).not.toBe(crashed.token)
    // The first attempt, if it was only slow, can no longer store or release anything.
    expect(idempotency.finish(crashed, ok('{"late":1}'))).toBe('lost')
    expect(idempotency.abandon(crashed)).toBe(false)
    expect(idempotency.finish(retry, ok('{"retry":1}'))).toBe('stored')
    const replay = idempotency.begin(request('k1'))
    expect(replay.outcome === 'replay' && new TextDecoder().decode(replay.response.body)).toBe(
      '{"retry":1}',
    )
  })

  it('I5: an expired lease does not let a different request in (still 422)', () => {
    const { idempotency, clock } = setup(createStore())
    claimed(idempotency.begin(request('k1', 'one')))
    clock.advance(LEASE_MS)
    expect(idempotency.begin(request('k1', 'two'))).toEqual({ outcome: 'reused' })
  })

  it('I6: the same key in two workspaces names two independent requests', () => {
    const { idempotency } = setup(createStore())
    const a = claimed(idempotency.begin(request('shared', 'fox', 'ws_a')))
    const b = claimed(idempotency.begin(request('shared', 'owl', 'ws_b')))
    idempotency.finish(a, ok('{"ws":"a"}'))
    idempotency.finish(b, ok('{"ws":"b"}'))
    const replayA = idempotency.begin(request('shared', 'fox', 'ws_a'))
    const replayB = idempotency.begin(request('shared', 'owl', 'ws_b'))
    const text = (outcome: BeginOutcome) =>
      outcome.outcome === 'replay'
        ? new TextDecoder().decode(outcome.response.body)
        : outcome.outcome
    expect([text(replayA), text(replayB)]).toEqual(['{"ws":"a"}', '{"ws":"b"}'])
  })

  it.each([429, 500, 502, 503, 504])('does not keep a %d: the retry runs again', (status) => {
    const { idempotency } = setup(createStore())
    const first = claimed(idempotency.begin(request('k1')))
    expect(idempotency.finish(first, ok('{"error":{}}', status))).toBe('released')
    const second = idempotency.begin(request('k1'))
    expect(second.outcome).toBe('claimed')
  })

  it.each([201, 400, 402, 404, 422])('keeps a %d and replays it', (status) => {
    const { idempotency } = setup(createStore())
    idempotency.finish(claimed(idempotency.begin(request('k1'))), ok('{"x":1}', status))
    const replay = idempotency.begin(request('k1'))
    expect(replay.outcome === 'replay' && replay.response.status).toBe(status)
  })

  it('runs alsoCommit in the commit, told which way it went, and only while owned', () => {
    const { idempotency, clock } = setup(createStore())
    const seen: string[] = []
    const stored = claimed(idempotency.begin(request('a')))
    idempotency.finish(stored, ok('{}'), (outcome) => seen.push(`a:${outcome}`))
    const released = claimed(idempotency.begin(request('b')))
    idempotency.finish(released, ok('{}', 503), (outcome) => seen.push(`b:${outcome}`))
    const lost = claimed(idempotency.begin(request('c')))
    clock.advance(LEASE_MS)
    claimed(idempotency.begin(request('c')))
    idempotency.finish(lost, ok('{}'), (outcome) => seen.push(`c:${outcome}`))
    expect(seen).toEqual(['a:stored', 'b:released'])
  })

  it('abandon gives the key back for a retry', () => {
    const { idempotency } = setup(createStore())
    const claim = claimed(idempotency.begin(request('k1')))
    let hooked = false
    expect(
      idempotency.abandon(claim, () => {
        hooked = true
      }),
    ).toBe(true)
    expect(hooked).toBe(true)
    expect(idempotency.begin(request('k1')).outcome).toBe('claimed')
  })
})
