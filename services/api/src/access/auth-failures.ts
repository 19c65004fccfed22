import type { Clock } from '../ids.ts'
import { clientIpBucket } from './client-ip.ts'
import { gcraDecide, gcraParams } from './gcra.ts'
import { createTatTable } from './tat-table.ts'

/**
 * Slows down guessing keys. Each client address (per /64 for IPv6) may fail authentication
 * `maxFailures` times in a burst; after that it is throttled and may fail once more every
 * `windowMs / maxFailures`, i.e. at most `maxFailures` failures per window sustained. Only
 * requests without a usable key are refused for it (authenticate.ts): a valid key is served from
 * a throttled address too. Requests refused while throttled do not extend the throttling, so a
 * misconfigured client gets back in as soon as the budget allows.
 */
export type AuthFailureLimits = { maxFailures: number; windowMs: number }

export const DEFAULT_AUTH_FAILURE_LIMITS: AuthFailureLimits = { maxFailures: 10, windowMs: 60_000 }

export type AuthFailureState = { locked: false } | { locked: true; retryAfterMs: number }

export type AuthFailureLimiter = {
  /** Whether one more failure is over the budget: a throttled address gets 429 with Retry-After. */
  check(address: string | undefined): AuthFailureState
  /** Call after any failed authentication (missing, malformed, bad checksum, unknown, revoked). */
  recordFailure(address: string | undefined): AuthFailureState
  sweep(): number
  readonly size: number
}

export function createAuthFailureLimiter(options: {
  clock: Clock
  limits?: AuthFailureLimits
  minSweepSize?: number
}): AuthFailureLimiter {
  const limits = options.limits ?? DEFAULT_AUTH_FAILURE_LIMITS
  const params = gcraParams({ quota: limits.maxFailures, windowMs: limits.windowMs })
  const table = createTatTable({ minSweepSize: options.minSweepSize })
  const nowMs = () => Math.floor(options.clock.now().getTime())

  /** Locked when one more failure would not fit in the budget. */
  function state(bucket: string, now: number): AuthFailureState {
    const next = gcraDecide(table.get(bucket), now, params, 1)
    return next.allowed ? { locked: false } : { locked: true, retryAfterMs: next.retryAfterMs }
  }

  return {
    check(address) {
      return state(clientIpBucket(address), nowMs())
    },
    recordFailure(address) {
      const bucket = clientIpBucket(address)
      const now = nowMs()
      const decision = gcraDecide(table.get(bucket), now, params, 1)
      if (decision.allowed) {
        table.set(bucket, decision.tat, now)
      }
      return state(bucket, now)
    },
    sweep: () => table.sweep(nowMs()),
    get size() {
      return table.size
    },
  }
}
