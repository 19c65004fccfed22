import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { rateLimitedHeaders, rateLimitHeaders } from '../errors/rate-limit-headers.ts'
import type { Clock } from '../ids.ts'
import { manualClock } from '../providers/resilience/testing/manual-clock.ts'
import { createMemoryGcraStore } from './gcra-store.ts'
import { imageRules, type RateLimitSubject, requestRules } from './rate-limit-policies.ts'
import { createRateLimiter, type RateLimitRule } from './rate-limiter.ts'
import { referenceGcra } from './testing/reference-gcra.ts'
import { parseSfList } from './testing/structured-fields.ts'

const tenPerMinute = (bucket: string, cost = 1): RateLimitRule => ({
  name: 'key-requests',
  bucket,
  unit: 'requests',
  quota: 10,
  windowMs: 60_000,
  cost,
})

const subject = (overrides: Partial<RateLimitSubject> = {}): RateLimitSubject => ({
  keyId: 'key_a',
  workspaceId: 'ws_a',
  keyLimits: { requestsPerMinute: 10, imagesPerMinute: 6 },
  workspaceLimits: { requestsPerMinute: 100, imagesPerMinute: 20 },
  ...overrides,
})

/** The in-process limiter, as deps.ts builds it without Redis. */
const inProcess = (clock: Clock, minSweepSize?: number) => {
  const store = createMemoryGcraStore({ clock, minSweepSize })
  return Object.assign(createRateLimiter({ store }), { store })
}

describe('rate limiter', () => {
  it('R1: q=10 w=60, 15 back-to-back requests → 10 pass, 5 refused with well-formed headers', async () => {
    const clock = manualClock()
    const limiter = inProcess(clock)
    const passed: number[] = []
    let refused = 0
    for (let index = 0; index < 15; index += 1) {
      const decision = await limiter.check([tenPerMinute('key:a')])
      const headers = decision.allowed
        ? rateLimitHeaders(decision.policies)
        : rateLimitedHeaders(decision)
      const [state] = parseSfList(headers.ratelimit ?? '')
      expect(parseSfList(headers['ratelimit-policy'] ?? '')).toEqual([
        { value: 'key-requests', params: { q: 10, w: 60 } },
      ])
      if (decision.allowed) {
        passed.push(state?.params.r ?? -1)
        expect(headers['retry-after']).toBeUndefined()
      } else {
        refused += 1
        expect(headers['retry-after']).toMatch(/^[1-9][0-9]*$/)
        expect(Number(headers['retry-after'])).toBeGreaterThanOrEqual(1)
        expect(state?.params.r).toBe(0)
        expect(state?.params.t).toBeLessThanOrEqual(Number(headers['retry-after']))
      }
    }
    expect(passed).toEqual([9, 8, 7, 6, 5, 4, 3, 2, 1, 0])
    expect(refused).toBe(5)
  })

  it('R2: after the burst, advancing exactly w/q lets exactly one more through', async () => {
    const clock = manualClock()
    const limiter = inProcess(clock)
    for (let index = 0; index < 10; index += 1) {
      expect((await limiter.check([tenPerMinute('key:a')])).allowed).toBe(true)
    }
    clock.advance(5999)
    expect((await limiter.check([tenPerMinute('key:a')])).allowed).toBe(false)
    clock.advance(1)
    expect((await limiter.check([tenPerMinute('key:a')])).allowed).toBe(true)
    expect((await limiter.check([tenPerMinute('key:a')])).allowed).toBe(false)
  })

  it('R3: agrees with the reference GCRA on 10,000 random sequences, headers included', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.integer({ min: 0, max: 5000 }), { maxLength: 200 }),
        async (gaps) => {
          const clock = manualClock(0)
          const limiter = inProcess(clock)
          let ref = 0
          for (const gap of gaps) {
            clock.advance(gap)
            const actual = await limiter.check([tenPerMinute('k')])
            const expected = referenceGcra(ref, clock.ms(), 6000, 54_000)
            expect(actual.allowed).toBe(expected.ok)
            if (expected.ok) {
              ref = expected.tat
              expect(actual.policies[0]?.remaining).toBe(expected.remaining)
            } else {
              const headers = rateLimitedHeaders(actual)
              expect(Number(headers['retry-after'])).toBe(Math.ceil(expected.retryAfterMs / 1000))
              expect(Number(headers['retry-after-ms'])).toBe(Math.ceil(expected.retryAfterMs))
            }
          }
        },
      ),
      { numRuns: 10_000 },
    )
  })

  it('R3: a client that sleeps Retry-After (or retry-after-ms) is always admitted next', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 30 }),
        fc.integer({ min: 1, max: 600 }),
        fc.boolean(),
        fc.array(fc.tuple(fc.integer({ min: 0, max: 4000 }), fc.integer({ min: 1, max: 4 })), {
          maxLength: 100,
        }),
        async (quota, windowSeconds, useMs, steps) => {
          const clock = manualClock(1_700_000_000_123)
          const limiter = inProcess(clock)
          const rule = (cost: number): RateLimitRule => ({
            ...tenPerMinute('k', Math.min(cost, quota)),
            quota,
            windowMs: windowSeconds * 1000,
          })
          for (const [gap, cost] of steps) {
            clock.advance(gap)
            const decision = await limiter.check([rule(cost)])
            if (!decision.allowed) {
              const headers = rateLimitedHeaders(decision)
              clock.advance(
                useMs ? Number(headers['retry-after-ms']) : Number(headers['retry-after']) * 1000,
              )
              expect((await limiter.check([rule(cost)])).allowed).toBe(true)
            }
          }
        },
      ),
      { numRuns: 2000 },
    )
  })

  it('R4: exhausting key A leaves key B untouched', async () => {
    const clock = manualClock()
    const limiter = inProcess(clock)
    const before = (await limiter.check([tenPerMinute('key:b', 0)])).policies[0]
    while ((await limiter.check([tenPerMinute('key:a')])).allowed) {
      clock.advance(1)
    }
    const after = (await limiter.check([tenPerMinute('key:b', 0)])).policies[0]
    expect(after?.remaining).toBe(before?.remaining)
    expect((await limiter.check([tenPerMinute('key:b')])).policies[0]?.remaining).toBe(9)
  })

  it('refuses all or nothing: a refusal by the workspace spends none of the key budget', async () => {
    const clock = manualClock()
    const limiter = inProcess(clock)
    const small = subject({ workspaceLimits: { requestsPerMinute: 2, imagesPerMinute: 20 } })
    expect((await limiter.check(requestRules(small))).allowed).toBe(true)
    expect((await limiter.check(requestRules(small))).allowed).toBe(true)
    const refused = await limiter.check(requestRules(small))
    expect(refused.allowed).toBe(false)
    expect(refused.retryAfterMs).toBe(30_000)
    expect(refused.policies.map((state) => [state.name, state.allowed, state.remaining])).toEqual([
      ['key-requests', true, 8],
      ['workspace-requests', false, 0],
    ])
    // Another key of the same workspace is held back by the shared workspace budget.
    const sibling = await limiter.check(requestRules({ ...small, keyId: 'key_b' }))
    expect(sibling.allowed).toBe(false)
    expect(sibling.policies[0]).toMatchObject({ name: 'key-requests', remaining: 10 })
  })

  it('charges images by count, per key and per workspace', async () => {
    const clock = manualClock()
    const limiter = inProcess(clock)
    const first = await limiter.check(imageRules(subject(), 4))
    expect(first.allowed).toBe(true)
    expect(first.policies.map((state) => state.remaining)).toEqual([2, 16])
    const second = await limiter.check(imageRules(subject(), 3))
    expect(second.allowed).toBe(false)
    expect(second.retryAfterMs).toBe(10_000)
    expect(rateLimitedHeaders(second)).toMatchObject({
      'x-ratelimit-limit-images': '6',
      'x-ratelimit-remaining-images': '2',
      'retry-after': '10',
    })
    // Request and image budgets are separate buckets.
    expect((await limiter.check(requestRules(subject()))).policies[0]?.remaining).toBe(9)
  })

  it('refuses for good, without Retry-After, a request costing more than the burst', async () => {
    const limiter = inProcess(manualClock())
    const decision = await limiter.check(imageRules(subject(), 7))
    expect(decision.allowed).toBe(false)
    expect(decision.retryAfterMs).toBe(Number.POSITIVE_INFINITY)
    expect(rateLimitedHeaders(decision)['retry-after']).toBeUndefined()
  })

  it('skips limits that are switched off', async () => {
    const limiter = inProcess(manualClock())
    const open = subject({
      keyLimits: { requestsPerMinute: null, imagesPerMinute: null },
      workspaceLimits: { requestsPerMinute: null, imagesPerMinute: 5 },
    })
    expect(requestRules(open)).toEqual([])
    expect(await limiter.check(requestRules(open))).toEqual({
      allowed: true,
      retryAfterMs: 0,
      policies: [],
    })
    expect(imageRules(open, 2).map((rule) => rule.name)).toEqual(['workspace-images'])
  })

  it('refuses the same bucket twice in one check', async () => {
    const limiter = inProcess(manualClock())
    await expect(limiter.check([tenPerMinute('k'), tenPerMinute('k')])).rejects.toThrow()
  })

  it('keeps memory bounded: buckets of idle keys are dropped', async () => {
    const clock = manualClock()
    const limiter = inProcess(clock, 256)
    for (let key = 0; key < 10_000; key += 1) {
      await limiter.check([tenPerMinute(`key:${key}`)])
      clock.advance(10)
    }
    // A single request's bucket is full again after T = 6 s, so only ~600 keys are live.
    expect(limiter.store.size).toBeLessThanOrEqual(1200)
    clock.advance(6000)
    expect(limiter.store.sweep()).toBeGreaterThan(0)
    expect(limiter.store.size).toBe(0)
  })
})
