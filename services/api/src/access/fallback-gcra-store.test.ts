import { pino } from 'pino'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { systemClock } from '../ids.ts'
import { type OwnRedisServer, startOwnRedisServer } from '../testing/redis.ts'
import { withLocalFallback } from './fallback-gcra-store.ts'
import { createMemoryGcraStore } from './gcra-store.ts'
import { createRateLimiter, type RateLimitRule } from './rate-limiter.ts'
import { connectRedis, openRedis, REDIS_COMMAND_TIMEOUT_MS } from './redis-client.ts'
import { createRedisGcraStore } from './redis-gcra-store.ts'

/** One imagegate instance's limiter as deps.ts builds it with IMAGEGATE_REDIS_URL set. */
async function instance(url: string) {
  const redis = openRedis(url)
  await connectRedis(redis)
  const lines: Record<string, unknown>[] = []
  const log = pino({ level: 'info' }, { write: (line: string) => lines.push(JSON.parse(line)) })
  let localDecisions = 0
  const store = withLocalFallback(
    createRedisGcraStore({ redis, keyPrefix: 'imagegate:' }),
    createMemoryGcraStore({ clock: systemClock }),
    { log, onLocalDecision: () => (localDecisions += 1) },
  )
  return {
    redis,
    lines,
    limiter: createRateLimiter({ store }),
    localDecisions: () => localDecisions,
  }
}
type Instance = Awaited<ReturnType<typeof instance>>

const perMinute = (bucket: string, quota: number): RateLimitRule => ({
  name: 'key-requests',
  bucket,
  unit: 'requests',
  quota,
  windowMs: 60_000,
  cost: 1,
})

/** Sends `count` requests through each instance in turn; answers how many each let through. */
async function admitted(
  instances: Instance[],
  rules: RateLimitRule[],
  count: number,
): Promise<number[]> {
  const passed = instances.map(() => 0)
  for (let index = 0; index < count; index += 1) {
    const which = index % instances.length
    const decision = await (instances[which] as Instance).limiter.check(rules)
    passed[which] = (passed[which] as number) + (decision.allowed ? 1 : 0)
  }
  return passed
}

const sum = (counts: number[]) => counts.reduce((total, count) => total + count, 0)

/** Until both instances decide on Redis again (reconnected, and past the retry interval). */
async function sharedAgain(instances: Instance[]) {
  await vi.waitFor(
    async () => {
      for (const each of instances) {
        const before = each.localDecisions()
        await each.limiter.check([perMinute('probe', 1_000_000)])
        expect(each.localDecisions()).toBe(before)
      }
    },
    { timeout: 10_000, interval: 100 },
  )
}

describe('Redis unreachable: limits fall back to each instance', () => {
  let server: OwnRedisServer
  let a: Instance
  let b: Instance
  beforeAll(async () => {
    server = await startOwnRedisServer()
    a = await instance(server.url)
    b = await instance(server.url)
  })
  afterAll(async () => {
    a?.redis.disconnect()
    b?.redis.disconnect()
    await server?.kill()
  })

  it('shares N across two instances; per instance N while Redis is down; shared again once it is back', async () => {
    const before = await admitted([a, b], [perMinute('key:one', 5)], 20)
    expect(sum(before)).toBe(5)
    expect(a.localDecisions() + b.localDecisions()).toBe(0)

    await server.kill()
    const started = performance.now()
    const during = await admitted([a, b], [perMinute('key:two', 5)], 20)
    // Each instance enforces the limit by itself: 5 each, nothing refused for the outage.
    expect(during).toEqual([5, 5])
    // 20 decisions without a server: no waiting on timeouts or reconnects.
    expect(performance.now() - started).toBeLessThan(1000)
    expect(a.localDecisions()).toBe(10)
    expect(b.localDecisions()).toBe(10)
    // One error line per instance for the whole outage.
    for (const each of [a, b]) {
      const errors = each.lines.filter((line) => line.level === 50)
      expect(errors).toHaveLength(1)
      expect(errors[0]?.msg).toMatch(/Redis unreachable.*per-instance limits/)
    }

    await server.start()
    await sharedAgain([a, b])
    const after = await admitted([a, b], [perMinute('key:three', 5)], 20)
    expect(sum(after)).toBe(5)
    for (const each of [a, b]) {
      expect(each.lines.some((line) => /Redis answers again/.test(String(line.msg)))).toBe(true)
    }
  })

  it('a Redis that hangs costs one command timeout, then local decisions at once', async () => {
    await sharedAgain([a, b])
    const localBefore = a.localDecisions()
    server.pause()
    try {
      const first = performance.now()
      const decision = await a.limiter.check([perMinute('key:hung', 5)])
      const waited = performance.now() - first
      expect(decision.allowed).toBe(true)
      expect(waited).toBeGreaterThanOrEqual(REDIS_COMMAND_TIMEOUT_MS - 50)
      expect(waited).toBeLessThan(REDIS_COMMAND_TIMEOUT_MS + 1000)
      const rest = performance.now()
      expect(await admitted([a], [perMinute('key:hung', 5)], 9)).toEqual([4])
      expect(performance.now() - rest).toBeLessThan(200)
      expect(a.localDecisions() - localBefore).toBe(10)
    } finally {
      server.resume()
    }
    await sharedAgain([a, b])
  })

  it('reloads the script when the server has lost it (NOSCRIPT → EVAL)', async () => {
    await sharedAgain([a, b])
    await a.redis.script('FLUSH')
    const localBefore = a.localDecisions()
    const passed = await admitted([a, b], [perMinute('key:flushed', 3)], 6)
    expect(sum(passed)).toBe(3)
    expect(a.localDecisions()).toBe(localBefore)
    const stats = String(await a.redis.info('commandstats'))
    expect(stats).toMatch(/cmdstat_eval:calls=[1-9]/)
  })
})
