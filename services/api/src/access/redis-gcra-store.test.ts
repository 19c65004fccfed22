import type { Redis } from 'ioredis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { rateLimitedHeaders, rateLimitHeaders } from '../errors/rate-limit-headers.ts'
import { manualClock } from '../providers/resilience/testing/manual-clock.ts'
import { deleteKeysUnder, keysUnder, TEST_REDIS_URL, uniqueKeyPrefix } from '../testing/redis.ts'
import { createAuthFailureLimiter } from './auth-failures.ts'
import { createMemoryGcraStore, type GcraStore } from './gcra-store.ts'
import { type RateLimitSubject, requestRules } from './rate-limit-policies.ts'
import { createRateLimiter, type RateLimitDecision, type RateLimitRule } from './rate-limiter.ts'
import { connectRedis, openRedis } from './redis-client.ts'
import { createRedisGcraStore } from './redis-gcra-store.ts'

const prefix = uniqueKeyPrefix()
const connections: Redis[] = []

async function connection(): Promise<Redis> {
  const redis = openRedis(TEST_REDIS_URL)
  await connectRedis(redis)
  connections.push(redis)
  return redis
}

let redis: Redis
beforeAll(async () => {
  redis = await connection()
})
afterAll(async () => {
  await deleteKeysUnder(redis, prefix)
  for (const each of connections) {
    each.disconnect()
  }
})

let next = 0
/** A store under a key prefix of its own, so every test starts from full buckets. */
function freshStore(on = redis): { store: GcraStore; keyPrefix: string } {
  next += 1
  const keyPrefix = `${prefix}${next}:`
  return { store: createRedisGcraStore({ redis: on, keyPrefix }), keyPrefix }
}

const rule = (bucket: string, quota: number, windowMs: number, cost = 1): RateLimitRule => ({
  name: 'key-requests',
  bucket,
  unit: 'requests',
  quota,
  windowMs,
  cost,
})

const subject = (workspaceRequests: number): RateLimitSubject => ({
  keyId: 'key_a',
  workspaceId: 'ws_a',
  keyLimits: { requestsPerMinute: 10, imagesPerMinute: 6 },
  workspaceLimits: { requestsPerMinute: workspaceRequests, imagesPerMinute: 20 },
})

const headersOf = (decision: RateLimitDecision) =>
  decision.allowed ? rateLimitHeaders(decision.policies) : rateLimitedHeaders(decision)

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/** mulberry32: the same "random" sequence on every run. */
function seededRandom(seed: number) {
  let state = seed
  return () => {
    state = (state + 0x6d2b79f5) | 0
    let t = Math.imul(state ^ (state >>> 15), 1 | state)
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

describe('the Redis GCRA store', () => {
  it('decides exactly as the in-process limiter on the same sequence, headers included', async () => {
    // The in-process limiter runs on a clock set to the instant the script read from TIME, so
    // both decide every request at the same moment; any difference in what the script spent
    // (or refused to spend) shows up in a later decision.
    const { store } = freshStore()
    const clock = manualClock(0)
    const observed: GcraStore = {
      async apply(buckets, spend) {
        const snapshot = await store.apply(buckets, spend)
        clock.set(snapshot.nowMs)
        return snapshot
      },
    }
    const shared = createRateLimiter({ store: observed })
    const inProcess = createRateLimiter({ store: createMemoryGcraStore({ clock }) })
    // Short windows (T = 10 ms, 8 ms, 25 ms) so real time walks through every state.
    const pool = [
      rule('key:a', 5, 50),
      { ...rule('workspace:w', 12, 96), name: 'workspace-requests' },
      { ...rule('key:b', 4, 100), burst: 2 },
    ]
    const random = seededRandom(17)
    let allowed = 0
    let refused = 0
    for (let step = 0; step < 300; step += 1) {
      const rules = pool
        .filter(() => random() < 0.7)
        .map((each) => ({ ...each, cost: 1 + Math.floor(random() * 3) }))
      const actual = await shared.check(rules)
      const expected = await inProcess.check(rules)
      expect(actual).toEqual(expected)
      expect(headersOf(actual)).toEqual(headersOf(expected))
      if (rules.length > 0) {
        allowed += actual.allowed ? 1 : 0
        refused += actual.allowed ? 0 : 1
      }
      await sleep(Math.floor(random() * 12))
    }
    // The sequence went through both outcomes many times.
    expect(allowed).toBeGreaterThan(30)
    expect(refused).toBeGreaterThan(30)
  })

  it('R1 on Redis: q=10 per minute, 15 back to back → 10 pass (r 9…0), 5 refused', async () => {
    const limiter = createRateLimiter(freshStore())
    const remaining: number[] = []
    const retryAfter: string[] = []
    for (let index = 0; index < 15; index += 1) {
      const decision = await limiter.check([rule('key:a', 10, 60_000)])
      if (decision.allowed) {
        remaining.push(decision.policies[0]?.remaining ?? -1)
      } else {
        retryAfter.push(rateLimitedHeaders(decision)['retry-after'] ?? '')
      }
    }
    expect(remaining).toEqual([9, 8, 7, 6, 5, 4, 3, 2, 1, 0])
    expect(retryAfter).toHaveLength(5)
    for (const seconds of retryAfter) {
      expect(Number(seconds)).toBeGreaterThanOrEqual(5)
      expect(Number(seconds)).toBeLessThanOrEqual(6)
    }
  })

  it('is all or nothing across buckets: a refusal by the workspace spends none of the key', async () => {
    const { store, keyPrefix } = freshStore()
    const limiter = createRateLimiter({ store })
    expect((await limiter.check(requestRules(subject(2)))).allowed).toBe(true)
    expect((await limiter.check(requestRules(subject(2)))).allowed).toBe(true)
    const keyTat = await redis.get(`${keyPrefix}requests:key:key_a`)
    const workspaceTat = await redis.get(`${keyPrefix}requests:workspace:ws_a`)
    const refused = await limiter.check(requestRules(subject(2)))
    expect(refused.allowed).toBe(false)
    expect(refused.policies.map((state) => [state.name, state.allowed, state.remaining])).toEqual([
      ['key-requests', true, 8],
      ['workspace-requests', false, 0],
    ])
    expect(await redis.get(`${keyPrefix}requests:key:key_a`)).toBe(keyTat)
    expect(await redis.get(`${keyPrefix}requests:workspace:ws_a`)).toBe(workspaceTat)
  })

  it('refusals spend nothing: once the budget is back, the first request passes', async () => {
    const { store, keyPrefix } = freshStore()
    const limiter = createRateLimiter({ store })
    const tight = rule('key:a', 2, 400)
    await limiter.check([tight])
    await limiter.check([tight])
    const tat = await redis.get(`${keyPrefix}requests:key:a`)
    let lastRetryMs = 0
    for (let index = 0; index < 20; index += 1) {
      const decision = await limiter.check([tight])
      expect(decision.allowed).toBe(false)
      lastRetryMs = decision.retryAfterMs
    }
    expect(await redis.get(`${keyPrefix}requests:key:a`)).toBe(tat)
    await sleep(lastRetryMs + 5)
    expect((await limiter.check([tight])).allowed).toBe(true)
  })

  it('keeps one key per bucket under the prefix, expiring when the bucket is full again', async () => {
    const { store, keyPrefix } = freshStore()
    const limiter = createRateLimiter({ store })
    const decision = await limiter.check([
      rule('key:a', 10, 60_000, 3),
      { ...rule('workspace:w', 100, 200), name: 'workspace-requests' },
    ])
    expect(decision.allowed).toBe(true)
    expect((await keysUnder(redis, keyPrefix)).sort()).toEqual([
      `${keyPrefix}requests:key:a`,
      `${keyPrefix}requests:workspace:w`,
    ])
    // 3 units of 6 s: full again in 18 s, which is when the key goes.
    const ttl = await redis.pttl(`${keyPrefix}requests:key:a`)
    expect(ttl).toBeGreaterThan(17_000)
    expect(ttl).toBeLessThanOrEqual(18_000)
    expect(decision.policies[0]?.resetMs).toBe(18_000)
    // One unit of 2 ms: gone almost at once.
    await sleep(30)
    expect(await keysUnder(redis, keyPrefix)).toEqual([`${keyPrefix}requests:key:a`])
    // A look (a failed-auth check) writes nothing.
    const failures = createAuthFailureLimiter({ store })
    await failures.check('203.0.113.7')
    expect(await keysUnder(redis, `${keyPrefix}auth-failures:`)).toEqual([])
    await failures.recordFailure('203.0.113.7')
    expect(await keysUnder(redis, `${keyPrefix}auth-failures:`)).toEqual([
      `${keyPrefix}auth-failures:203.0.113.7`,
    ])
  })

  it('two instances (two connections) share one budget: N per window across both, not 2N', async () => {
    const { keyPrefix } = freshStore()
    const other = await connection()
    const a = createRateLimiter({ store: createRedisGcraStore({ redis, keyPrefix }) })
    const b = createRateLimiter({ store: createRedisGcraStore({ redis: other, keyPrefix }) })
    const limit = [rule('key:shared', 10, 60_000)]
    const decisions = await Promise.all(
      Array.from({ length: 30 }, (_, index) => (index % 2 === 0 ? a : b).check(limit)),
    )
    expect(decisions.filter((decision) => decision.allowed)).toHaveLength(10)
    const remaining = decisions
      .filter((decision) => decision.allowed)
      .map((decision) => decision.policies[0]?.remaining)
      .sort()
    expect(remaining).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9])
  })

  it('two instances share the failed-authentication budget of an address', async () => {
    const { keyPrefix } = freshStore()
    const other = await connection()
    const limits = { maxFailures: 4, windowMs: 60_000 }
    const a = createAuthFailureLimiter({
      store: createRedisGcraStore({ redis, keyPrefix }),
      limits,
    })
    const b = createAuthFailureLimiter({
      store: createRedisGcraStore({ redis: other, keyPrefix }),
      limits,
    })
    await a.recordFailure('198.51.100.9')
    await b.recordFailure('198.51.100.9')
    await a.recordFailure('198.51.100.9')
    expect(await b.check('198.51.100.9')).toEqual({ locked: false })
    expect(await b.recordFailure('198.51.100.9')).toMatchObject({ locked: true })
    const locked = await a.check('198.51.100.9')
    expect(locked.locked && locked.retryAfterMs).toBeGreaterThan(14_000)
    expect(await a.check('198.51.100.10')).toEqual({ locked: false })
  })
})
