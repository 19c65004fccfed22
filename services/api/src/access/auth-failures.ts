import type { Clock } from '../ids.ts'
import { clientIpBucket } from './client-ip.ts'
import { gcraDecide, gcraParams } from './gcra.ts'
import { createTatTable } from './tat-table.ts'

/**
 * Slows down guessing (reliability.md S8). Each client address (per /64 for IPv6) may fail
 * authentication `maxFailures` times in a burst; after that it is locked out and may fail once
 * more every `windowMs / maxFailures`, i.e. at most `maxFailures` failures per window sustained.
 * A locked-out client is refused with 429 before its key is even looked at, which also keeps the
 * refusal path cheap. Requests made while locked out do not extend the lock-out, so a legitimate
 * client behind the same address gets back in as soon as the budget allows.
 */
export type AuthFailureLimits = { maxFailures: number; windowMs: number }

export const DEFAULT_AUTH_FAILURE_LIMITS: AuthFailureLimits = { maxFailures: 10, windowMs: 60_000 }

export type AuthFailureState = { locked: false } | { locked: true; retryAfterMs: number }

export type AuthFailureLimiter = {
  /** Call before authenticating: a locked-out address gets 429 with Retry-After. */
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
