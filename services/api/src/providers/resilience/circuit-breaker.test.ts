import { describe, expect, it } from 'vitest'
import { UpstreamFailure, type UpstreamFailureKind } from '../types.ts'
import { CircuitOpenError, createCircuitBreaker } from './circuit-breaker.ts'
import { manualClock } from './testing/manual-clock.ts'

function setup(overrides: { consecutiveFailures?: number; minimumCalls?: number } = {}) {
  const clock = manualClock()
  const breaker = createCircuitBreaker({
    provider: 'openai',
    clock,
    consecutiveFailures: 5,
    failureRatio: 0.5,
    minimumCalls: 10,
    windowMs: 30_000,
    coolDownMs: 10_000,
    probeLeaseMs: 60_000,
    ...overrides,
  })
  return { clock, breaker }
}

function thrownBy(fn: () => void): unknown {
  try {
    fn()
  } catch (error) {
    return error
  }
  return undefined
}

function openIt(breaker: ReturnType<typeof setup>['breaker']) {
  for (let i = 0; i < 5; i++) {
    breaker.check()
    breaker.record('unavailable')
  }
  expect(breaker.state()).toBe('open')
}

describe('circuit breaker', () => {
  describe('closed', () => {
    it.each<UpstreamFailureKind>([
      'rejected',
      'content_policy',
      'auth',
      'quota',
      'rate_limited',
      'bad_response',
    ])('never opens on caller-side %s failures', (kind) => {
      const { breaker } = setup()
      for (let i = 0; i < 100; i++) {
        breaker.check()
        breaker.record(kind)
      }
      expect(breaker.state()).toBe('closed')
    })

    it.each<UpstreamFailureKind>(['unavailable', 'not_sent', 'timeout', 'ambiguous'])(
      'opens after 5 consecutive %s failures',
      (kind) => {
        const { breaker } = setup()
        for (let i = 0; i < 4; i++) {
          breaker.record(kind)
        }
        expect(breaker.state()).toBe('closed')
        breaker.record(kind)
        expect(breaker.state()).toBe('open')
      },
    )

    it('restarts the consecutive count after any answer from the provider', () => {
      const { breaker } = setup()
      for (let i = 0; i < 4; i++) {
        breaker.record('unavailable')
      }
      breaker.record('rejected')
      for (let i = 0; i < 4; i++) {
        breaker.record('unavailable')
      }
      expect(breaker.state()).toBe('closed')
    })

    it('opens when half the calls in the window failed, once the window holds enough calls', () => {
      const { breaker } = setup({ consecutiveFailures: 1_000 })
      for (let i = 0; i < 4; i++) {
        breaker.record('success')
        breaker.record('unavailable')
      }
      expect(breaker.state()).toBe('closed')
      breaker.record('success')
      breaker.record('unavailable')
      expect(breaker.state()).toBe('open')
    })

    it('forgets failures older than the window', () => {
      const { clock, breaker } = setup({ consecutiveFailures: 1_000 })
      for (let i = 0; i < 9; i++) {
        breaker.record('unavailable')
      }
      clock.advance(31_000)
      for (let i = 0; i < 9; i++) {
        breaker.record('success')
      }
      breaker.record('unavailable')
      expect(breaker.state()).toBe('closed')
    })
  })

  describe('open', () => {
    it('fails fast with the remaining cool-down as a 503-shaped upstream failure', () => {
      const { clock, breaker } = setup()
      openIt(breaker)
      clock.advance(4_000)
      const error = thrownBy(() => breaker.check())
      expect(error).toBeInstanceOf(CircuitOpenError)
      expect(error).toBeInstanceOf(UpstreamFailure)
      expect(error).toMatchObject({
        kind: 'unavailable',
        provider: 'openai',
        retryAfterMs: 6_000,
        reason: 'circuit_open',
      })
    })

    it('ignores outcomes of calls that started before it opened', () => {
      const { clock, breaker } = setup()
      openIt(breaker)
      breaker.record('success')
      expect(breaker.state()).toBe('open')
      clock.advance(9_999)
      expect(() => breaker.check()).toThrow(CircuitOpenError)
    })

    it('turns half-open when the cool-down ends', () => {
      const { clock, breaker } = setup()
      openIt(breaker)
      clock.advance(10_000)
      expect(breaker.state()).toBe('half_open')
    })
  })

  describe('half-open', () => {
    function halfOpenWithProbe() {
      const context = setup()
      openIt(context.breaker)
      context.clock.advance(10_000)
      context.breaker.check()
      return context
    }

    it('lets exactly one probe through and fails the rest fast', () => {
      const { breaker } = halfOpenWithProbe()
      expect(breaker.state()).toBe('half_open')
      const error = thrownBy(() => breaker.check())
      expect(error).toBeInstanceOf(CircuitOpenError)
      expect((error as CircuitOpenError).retryAfterMs).toBe(10_000)
    })

    it('closes when the probe succeeds, with the failure history wiped', () => {
      const { breaker } = halfOpenWithProbe()
      breaker.record('success')
      expect(breaker.state()).toBe('closed')
      breaker.check()
      breaker.record('unavailable')
      expect(breaker.state()).toBe('closed')
    })

    it('closes when the probe gets a caller-side error, because the provider answered', () => {
      const { breaker } = halfOpenWithProbe()
      breaker.record('content_policy')
      expect(breaker.state()).toBe('closed')
    })

    it('reopens for a fresh cool-down when the probe finds the provider still down', () => {
      const { clock, breaker } = halfOpenWithProbe()
      clock.advance(3_000)
      breaker.record('timeout')
      expect(breaker.state()).toBe('open')
      expect(thrownBy(() => breaker.check())).toMatchObject({ retryAfterMs: 10_000 })
      clock.advance(10_000)
      expect(breaker.state()).toBe('half_open')
    })

    it('admits another probe when the first never reports back within its lease', () => {
      const { clock, breaker } = halfOpenWithProbe()
      clock.advance(59_999)
      expect(() => breaker.check()).toThrow(CircuitOpenError)
      clock.advance(1)
      expect(() => breaker.check()).not.toThrow()
      expect(() => breaker.check()).toThrow(CircuitOpenError)
    })
  })
})
