import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { UpstreamFailure } from '../types.ts'
import type { Random } from './backoff.ts'
import { executeWithRetry } from './execute.ts'
import { systemSleep } from './sleep.ts'
import { seededRandom } from './testing/seeded-random.ts'

// B7: 100 clients fail together at T0, the upstream is down for 5 s, everyone keeps retrying.
const T0 = Date.UTC(2026, 10, 21, 12)
const RECOVERY = T0 + 5_000
const CLIENTS = 100
const clock = { now: () => new Date() }

/** Start times (ms after recovery) of every upstream attempt made once the upstream is back. */
async function herd(random: Random): Promise<number[]> {
  const afterRecovery: number[] = []
  const attempt = async () => {
    const at = Date.now()
    if (at < RECOVERY) {
      throw new UpstreamFailure('unavailable', 'openai', '503 from the fake upstream', {
        status: 503,
      })
    }
    afterRecovery.push(at - RECOVERY)
    return 'image'
  }
  const clients = Array.from({ length: CLIENTS }, () =>
    executeWithRetry(attempt, {
      provider: 'openai',
      deadlineAt: T0 + 60_000,
      // Enough attempts that every client is still retrying when the upstream comes back.
      maxAttempts: 20,
      clock,
      sleep: systemSleep,
      random,
    }),
  )
  await vi.advanceTimersByTimeAsync(60_000)
  const results = await Promise.all(clients)
  expect(results.every((result) => result.value === 'image')).toBe(true)
  return afterRecovery
}

/** Attempts per bucket of `bucketMs`, from recovery to the last attempt. */
function histogram(times: number[], bucketMs: number): number[] {
  const buckets = new Array<number>(Math.floor(Math.max(...times) / bucketMs) + 1).fill(0)
  for (const time of times) {
    const index = Math.floor(time / bucketMs)
    buckets[index] = (buckets[index] ?? 0) + 1
  }
  return buckets
}

beforeEach(() => {
  vi.useFakeTimers({ now: T0, toFake: ['setTimeout', 'clearTimeout', 'Date'] })
})
afterEach(() => {
  vi.useRealTimers()
})

describe('thundering herd after recovery (B7)', () => {
  it('without jitter, the whole herd hits the recovered upstream in the same millisecond', async () => {
    // random() = 1 turns full jitter into plain capped exponential backoff.
    const times = await herd(() => 1)
    expect(times).toHaveLength(CLIENTS)
    expect(Math.max(...histogram(times, 1))).toBe(CLIENTS)
  })

  it('with full jitter, the herd is spread over seconds instead', async () => {
    const times = await herd(seededRandom(7))
    expect(times).toHaveLength(CLIENTS)
    // A client's first attempt after recovery is uniform over a 4 s or 8 s backoff interval, so
    // no second should hold much more than a quarter of the herd (28% for this seed, at most
    // 38% over seeds 1–60), and no millisecond more than a couple of clients.
    expect(Math.max(...histogram(times, 1_000))).toBeLessThanOrEqual(CLIENTS * 0.4)
    expect(Math.max(...histogram(times, 1))).toBeLessThanOrEqual(3)
    // B7 also asks for peak ≤ 2 × mean attempts/s; that is not asserted because it does not
    // hold for this set-up: after a 5 s outage the first retries past recovery are front-loaded
    // (the overshoot of a renewal process), giving peak/mean ≈ 2.2 over 1 s buckets in
    // expectation (2.24 here, median 2.17 over seeds 1–60) against 3 without jitter.
  })
})
