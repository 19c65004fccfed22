import { clientIpBucket } from './client-ip.ts'
import { type GcraParams, gcraDecide, gcraParams } from './gcra.ts'
import type { GcraStore } from './gcra-store.ts'

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
  check(address: string | undefined): Promise<AuthFailureState>
  /** Call after any failed authentication (missing, malformed, bad checksum, unknown, revoked). */
  recordFailure(address: string | undefined): Promise<AuthFailureState>
}

/** Locked when one more failure would not fit in the budget. */
function stateAt(tat: number, nowMs: number, params: GcraParams): AuthFailureState {
  const next = gcraDecide(tat, nowMs, params, 1)
  return next.allowed ? { locked: false } : { locked: true, retryAfterMs: next.retryAfterMs }
}

/**
 * The failures of each address as one GCRA bucket (`auth-failures:<address>`) in the store the
 * rate limiter uses too; its slot names never collide with the limiter's (`requests:…`, `images:…`).
 */
export function createAuthFailureLimiter(options: {
  store: GcraStore
  limits?: AuthFailureLimits
}): AuthFailureLimiter {
  const { store } = options
  const limits = options.limits ?? DEFAULT_AUTH_FAILURE_LIMITS
  const params = gcraParams({ quota: limits.maxFailures, windowMs: limits.windowMs })
  const bucketOf = (address: string | undefined) => ({
    slot: `auth-failures:${clientIpBucket(address)}`,
    params,
    cost: 1,
  })

  return {
    async check(address) {
      const { nowMs, tats } = await store.apply([bucketOf(address)], false)
      return stateAt(tats[0] as number, nowMs, params)
    },
    async recordFailure(address) {
      const { nowMs, tats } = await store.apply([bucketOf(address)], true)
      const decision = gcraDecide(tats[0] as number, nowMs, params, 1)
      return stateAt(decision.allowed ? decision.tat : (tats[0] as number), nowMs, params)
    },
  }
}
