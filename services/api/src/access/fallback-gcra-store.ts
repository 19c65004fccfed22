import type { Logger } from 'pino'
import type { GcraStore } from './gcra-store.ts'

/** After a failed call, decisions stay local this long before the shared store is tried again. */
export const SHARED_STORE_RETRY_MS = 1000

/**
 * The policy while Redis is unreachable: every decision falls back to this instance's own
 * in-process store, so each instance enforces the full limits by itself (a key may get up to N
 * times its quota across N instances) and nothing is refused for the outage. Limits protect
 * capacity, not money (the credits ledger is in the database), so refusing every request
 * because the limiter's store is down would turn a Redis outage into a total one; a failed
 * authentication budget per instance still holds guessing of 256-bit keys hopeless.
 *
 * The first failure is logged as an error, the return of the shared store once more (no line
 * per request); every local decision is counted (`onLocalDecision`, a Prometheus counter). For
 * SHARED_STORE_RETRY_MS after a failure the shared store is not asked at all, so a Redis that
 * hangs instead of refusing costs one command timeout per interval, not one per request. Budget
 * spent locally stays local: when Redis is back, its own TATs apply again.
 */
export function withLocalFallback(
  shared: GcraStore,
  local: GcraStore,
  options: {
    log: Logger
    onLocalDecision: () => void
    /** Monotonic milliseconds; performance.now unless a test steps it. */
    nowMs?: () => number
    retryMs?: number
  },
): GcraStore {
  const nowMs = options.nowMs ?? (() => performance.now())
  const retryMs = options.retryMs ?? SHARED_STORE_RETRY_MS
  let localUntil = Number.NEGATIVE_INFINITY
  let down = false

  const decideLocally: GcraStore['apply'] = (buckets, spend) => {
    options.onLocalDecision()
    return local.apply(buckets, spend)
  }

  return {
    async apply(buckets, spend) {
      if (nowMs() < localUntil) {
        return decideLocally(buckets, spend)
      }
      try {
        const snapshot = await shared.apply(buckets, spend)
        if (down) {
          down = false
          options.log.info('Redis answers again: rate limits are shared across instances again')
        }
        return snapshot
      } catch (err) {
        localUntil = nowMs() + retryMs
        if (!down) {
          down = true
          options.log.error(
            { err },
            'Redis unreachable: rate limits and failed-authentication throttling fall back to per-instance limits',
          )
        }
        return decideLocally(buckets, spend)
      }
    },
  }
}
