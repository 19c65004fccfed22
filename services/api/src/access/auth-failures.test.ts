import { describe, expect, it } from 'vitest'
import { retryAfterHeaders } from '../errors/rate-limit-headers.ts'
import { manualClock } from '../providers/resilience/testing/manual-clock.ts'
import { createAuthFailureLimiter } from './auth-failures.ts'

const limits = { maxFailures: 5, windowMs: 60_000 }

describe('auth failure limiter', () => {
  it('S8: locks an address out after N failures, with a Retry-After', () => {
    const clock = manualClock()
    const limiter = createAuthFailureLimiter({ clock, limits })
    const states = Array.from({ length: 5 }, () => limiter.recordFailure('198.51.100.9'))
    expect(states.slice(0, 4).every((state) => !state.locked)).toBe(true)
    expect(states[4]).toEqual({ locked: true, retryAfterMs: 12_000 })
    const check = limiter.check('198.51.100.9')
    expect(check).toEqual({ locked: true, retryAfterMs: 12_000 })
    expect(check.locked && retryAfterHeaders(check.retryAfterMs)['retry-after']).toBe('12')
  })

  it('lets one more failure through per window/N once locked, and no burst', () => {
    const clock = manualClock()
    const limiter = createAuthFailureLimiter({ clock, limits })
    for (let index = 0; index < 5; index += 1) {
      limiter.recordFailure('198.51.100.9')
    }
    clock.advance(12_000)
    expect(limiter.check('198.51.100.9').locked).toBe(false)
    expect(limiter.recordFailure('198.51.100.9').locked).toBe(true)
  })

  it('does not extend the lock-out for requests refused while locked', () => {
    const clock = manualClock()
    const limiter = createAuthFailureLimiter({ clock, limits })
    for (let index = 0; index < 5; index += 1) {
      limiter.recordFailure('198.51.100.9')
    }
    for (let index = 0; index < 100; index += 1) {
      clock.advance(100)
      limiter.check('198.51.100.9')
      limiter.recordFailure('198.51.100.9')
    }
    clock.advance(2000)
    expect(limiter.check('198.51.100.9').locked).toBe(false)
  })

  it('forgives completely after a full window', () => {
    const clock = manualClock()
    const limiter = createAuthFailureLimiter({ clock, limits })
    for (let index = 0; index < 5; index += 1) {
      limiter.recordFailure('198.51.100.9')
    }
    clock.advance(60_000)
    const again = Array.from({ length: 5 }, () => limiter.recordFailure('198.51.100.9'))
    expect(again.filter((state) => state.locked)).toHaveLength(1)
  })

  it('keeps addresses apart, but one IPv6 /64 is one client', () => {
    const clock = manualClock()
    const limiter = createAuthFailureLimiter({ clock, limits })
    for (let index = 0; index < 5; index += 1) {
      limiter.recordFailure(`2001:db8:1:2::${index + 1}`)
    }
    expect(limiter.check('2001:db8:1:2:ffff::1').locked).toBe(true)
    expect(limiter.check('2001:db8:1:3::1').locked).toBe(false)
    expect(limiter.check('198.51.100.10').locked).toBe(false)
  })

  it('caps sustained guessing at N per window', () => {
    const clock = manualClock()
    const limiter = createAuthFailureLimiter({ clock, limits })
    let counted = 0
    for (let second = 0; second < 600; second += 1) {
      if (!limiter.check('198.51.100.9').locked) {
        counted += 1
        limiter.recordFailure('198.51.100.9')
      }
      clock.advance(1000)
    }
    // Ten minutes: the burst of 5, then one per 12 s.
    expect(counted).toBeLessThanOrEqual(5 + 50)
    expect(counted).toBeGreaterThanOrEqual(50)
  })

  it('forgets addresses once their budget is whole again', () => {
    const clock = manualClock()
    const limiter = createAuthFailureLimiter({ clock, limits, minSweepSize: 16 })
    for (let host = 0; host < 1000; host += 1) {
      limiter.recordFailure(`10.0.${host >> 8}.${host & 0xff}`)
    }
    clock.advance(12_000)
    limiter.sweep()
    expect(limiter.size).toBe(0)
  })
})
