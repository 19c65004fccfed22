import type { Clock } from '../../ids.ts'
import { type ProviderName, UpstreamFailure, type UpstreamFailureKind } from '../types.ts'
import { isProviderDown } from './classify.ts'

export type CircuitState = 'closed' | 'open' | 'half_open'

export type CircuitBreakerOptions = {
  provider: ProviderName
  clock: Clock
  /** Opens after this many "provider is down" failures in a row. */
  consecutiveFailures?: number
  /** …or when this share of the calls in the window failed… */
  failureRatio?: number
  /** …once the window holds at least this many calls, so two failures out of three do not trip it. */
  minimumCalls?: number
  windowMs?: number
  /** How long an open circuit fails fast before it lets one probe through. */
  coolDownMs?: number
  /**
   * A probe whose outcome is never recorded (its caller crashed) would hold the circuit half-open
   * forever; after this long another caller may probe. Longer than a slow image generation.
   */
  probeLeaseMs?: number
}

export const defaultCircuitBreakerOptions = {
  consecutiveFailures: 5,
  failureRatio: 0.5,
  minimumCalls: 10,
  windowMs: 30_000,
  coolDownMs: 10_000,
  probeLeaseMs: 120_000,
}

/** Thrown by `check()` while the circuit is open: the gateway answers 503 with Retry-After. */
export class CircuitOpenError extends UpstreamFailure {
  constructor(provider: ProviderName, retryAfterMs: number) {
    super('unavailable', provider, `${provider} circuit is open`, {
      retryAfterMs,
      reason: 'circuit_open',
    })
    this.name = 'CircuitOpenError'
  }
}

export type CircuitBreaker = {
  readonly provider: ProviderName
  state(): CircuitState
  /** Throws `CircuitOpenError` unless a call may go upstream now; in half-open, admits one probe. */
  check(): void
  /** The outcome of a call `check()` admitted. */
  record(outcome: 'success' | UpstreamFailureKind): void
}

const SLICES = 10

/**
 * One breaker per provider. Only failures that say the provider is down count (classify.ts):
 * a caller's bad prompt or a safety refusal proves the provider answered, so it counts as a
 * success and can never open the circuit.
 */
export function createCircuitBreaker(options: CircuitBreakerOptions): CircuitBreaker {
  const settings = { ...defaultCircuitBreakerOptions, ...options }
  const { clock, provider, coolDownMs, probeLeaseMs } = settings
  const sliceMs = settings.windowMs / SLICES
  // The window is a ring of time slices, so memory stays fixed however busy the provider is.
  const slices = Array.from({ length: SLICES }, () => ({ id: -1, calls: 0, failures: 0 }))
  let consecutive = 0
  let mode:
    | { name: 'closed' }
    | { name: 'open'; until: number }
    | { name: 'half_open'; probeAt: number } = { name: 'closed' }

  const now = () => clock.now().getTime()

  function open(at: number) {
    mode = { name: 'open', until: at + coolDownMs }
  }

  function close() {
    mode = { name: 'closed' }
    consecutive = 0
    for (const slice of slices) {
      slice.id = -1
    }
  }

  function countInWindow(at: number, failed: boolean) {
    const id = Math.floor(at / sliceMs)
    const slice = slices[id % SLICES]
    if (!slice) {
      return
    }
    if (slice.id !== id) {
      slice.id = id
      slice.calls = 0
      slice.failures = 0
    }
    slice.calls += 1
    slice.failures += failed ? 1 : 0
  }

  function windowTripped(at: number): boolean {
    const current = Math.floor(at / sliceMs)
    let calls = 0
    let failures = 0
    for (const slice of slices) {
      if (slice.id > current - SLICES) {
        calls += slice.calls
        failures += slice.failures
      }
    }
    return calls >= settings.minimumCalls && failures / calls >= settings.failureRatio
  }

  return {
    provider,
    state() {
      if (mode.name === 'open' && now() >= mode.until) {
        return 'half_open'
      }
      return mode.name
    },
    check() {
      const at = now()
      if (mode.name === 'open') {
        if (at < mode.until) {
          throw new CircuitOpenError(provider, mode.until - at)
        }
        mode = { name: 'half_open', probeAt: at }
        return
      }
      if (mode.name === 'half_open') {
        const leaseEnds = mode.probeAt + probeLeaseMs
        if (at < leaseEnds) {
          // The probe will settle it; by one cool-down from now the circuit has moved on.
          throw new CircuitOpenError(provider, Math.min(coolDownMs, leaseEnds - at))
        }
        mode = { name: 'half_open', probeAt: at }
      }
    },
    record(outcome) {
      const at = now()
      const failed = outcome !== 'success' && isProviderDown(outcome)
      if (mode.name === 'open') {
        // Stragglers that started before the circuit opened say nothing new.
        return
      }
      if (mode.name === 'half_open') {
        if (failed) {
          open(at)
        } else {
          close()
        }
        return
      }
      consecutive = failed ? consecutive + 1 : 0
      countInWindow(at, failed)
      if (consecutive >= settings.consecutiveFailures || windowTripped(at)) {
        open(at)
      }
    },
  }
}
