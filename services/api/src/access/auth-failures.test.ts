import { describe, expect, it } from 'vitest'
import { retryAfterHeaders } from '../errors/rate-limit-headers.ts'
import type { Clock } from '../ids.ts'
import { manualClock } from '../providers/resilience/testing/manual-clock.ts'
import { createAuthFailureLimiter } from './auth-failures.ts'
import { createMemoryGcraStore } from './gcra-store.ts'

const limits = { maxFailures: 5, windowMs: 60_000 }

/** The in-process limiter, as deps.ts builds it without Redis. */
const inProcess = (clock: Clock, minSweepSize?: number) => {
  const store = createMemoryGcraStore({ clock, minSweepSize })
  return Object.assign(createAuthFailureLimiter({ store, limits }), { store })
}

describe('auth failure limiter', () => {
  it('S8: locks an address out after N failures, with a Retry-After', async () => {
    const clock = manualClock()
    const limiter = inProcess(clock)
    const states = []
    for (let index = 0; index < 5; index += 1) {
      states.push(await limiter.recordFailure('198.51.100.9'))
    }
    expect(states.slice(0, 4).every((state) => !state.locked)).toBe(true)
    expect(states[4]).toEqual({ locked: true, retryAfterMs: 12_000 })
    const check = await limiter.check('198.51.100.9')
    expect(check).toEqual({ locked: true, retryAfterMs: 12_000 })
    expect(check.locked && retryAfterHeaders(check.retryAfterMs)['retry-after']).toBe('12')
  })

  it('lets one more failure through per window/N once locked, and no burst', async () => {
    const clock = manualClock()
    const limiter = inProcess(clock)
    for (let index = 0; index < 5; index += 1) {
      await limiter.recordFailure('198.51.100.9')
    }
    clock.advance(12_000)
    expect((await limiter.check('198.51.100.9')).locked).toBe(false)
    expect((await limiter.recordFailure('198.51.100.9')).locked).toBe(true)
  })

  it('does not extend the lock-out for requests refused while locked', async () => {
    const clock = manualClock()
    const limiter = inProcess(clock)
    for (let index = 0; index < 5; index += 1) {
      await limiter.recordFailure('198.51.100.9')
    }
    for (let index = 0; index < 100; index += 1) {
      clock.advance(100)
      await limiter.check('198.51.100.9')
      await limiter.recordFailure('198.51.100.9')
    }
    clock.advance(2000)
    expect((await limiter.check('198.51.100.9')).locked).toBe(false)
  })

  it('forgives completely after a full window', async () => {
    const clock = manualClock()
    const limiter = inProcess(clock)
    for (let index = 0; index < 5; index += 1) {
      await limiter.recordFailure('198.51.100.9')
    }
    clock.advance(60_000)
    const again = []
    for (let index = 0; index < 5; index += 1) {
      again.push(await limiter.recordFailure('198.51.100.9'))
    }
    expect(again.filter((state) => state.locked)).toHaveLength(1)
  })

  it('keeps addresses apart, but one IPv6 /64 is one client', async () => {
    const clock = manualClock()
    const limiter = inProcess(clock)
    for (let index = 0; index < 5; index += 1) {
      await limiter.recordFailure(`2001:db8:1:2::${index + 1}`)
    }
    expect((await limiter.check('2001:db8:1:2:ffff::1')).locked).toBe(true)
    expect((await limiter.check('2001:db8:1:3::1')).locked).toBe(false)
    expect((await limiter.check('198.51.100.10')).locked).toBe(false)
  })

  it('caps sustained guessing at N per window', async () => {
    const clock = manualClock()
    const limiter = inProcess(clock)
    let counted = 0
    for (let second = 0; second < 600; second += 1) {
      if (!(await limiter.check('198.51.100.9')).locked) {
        counted += 1
        await limiter.recordFailure('198.51.100.9')
      }
      clock.advance(1000)
    }
    // Ten minutes: the burst of 5, then one per 12 s.
    expect(counted).toBeLessThanOrEqual(5 + 50)
    expect(counted).toBeGreaterThanOrEqual(50)
  })

  it('forgets addresses once their budget is whole again', async () => {
    const clock = manualClock()
    const limiter = inProcess(clock, 16)
    for (let host = 0; host < 1000; host += 1) {
      await limiter.recordFailure(`10.0.${host >> 8}.${host & 0xff}`)
    }
    clock.advance(12_000)
    limiter.store.sweep()
    expect(limiter.store.size).toBe(0)
  })
})
