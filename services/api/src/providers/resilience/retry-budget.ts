import type { Clock } from '../../ids.ts'

export type RetryBudgetOptions = {
  clock: Clock
  /** Each request earns this fraction of a retry (Finagle's default: 20%). */
  percentCanRetry?: number
  /** Retries earned per second regardless of traffic, so a quiet provider can still retry. */
  minRetriesPerSec?: number
  /** Most retries a quiet period can bank (Finagle's reserve: 10/s over its 10 s window). */
  maxBalance?: number
}

export const defaultRetryBudgetOptions = {
  percentCanRetry: 0.2,
  minRetriesPerSec: 10,
  maxBalance: 100,
}

export type RetryBudget = {
  /** Call once per request that reaches the provider. */
  deposit(): void
  /** Call before each retry; false means do not retry. */
  tryWithdraw(): boolean
  /** Whole retries available now. */
  balance(): number
}

// Balances are kept in thousandths of a retry so 0.2-per-request deposits add up exactly.
const SCALE = 1_000

/**
 * A retry token bucket per provider (Finagle RetryBudget; Amazon Builders' Library: "retry
 * only while most calls succeed"). Under a total outage every request fails, so unbounded
 * retries would triple the load on a provider that is trying to recover; here retries stay
 * below 20% of requests plus 10/s. The bucket starts empty, so over any span of T seconds
 * with N requests: retries ≤ 0.2·N + 10·T, exactly.
 */
export function createRetryBudget(options: RetryBudgetOptions): RetryBudget {
  const settings = { ...defaultRetryBudgetOptions, ...options }
  const depositAmount = Math.round(settings.percentCanRetry * SCALE)
  const perMs = (settings.minRetriesPerSec * SCALE) / 1_000
  const cap = settings.maxBalance * SCALE
  let balance = 0
  let refilledAt = settings.clock.now().getTime()

  function refill() {
    const at = settings.clock.now().getTime()
    // A clock stepping backwards must not drain the bucket.
    const elapsed = Math.max(0, at - refilledAt)
    refilledAt = Math.max(refilledAt, at)
    balance = Math.min(cap, balance + elapsed * perMs)
  }

  return {
    deposit() {
      refill()
      balance = Math.min(cap, balance + depositAmount)
    },
    tryWithdraw() {
      refill()
      if (balance < SCALE) {
        return false
      }
      balance -= SCALE
      return true
    },
    balance() {
      refill()
      return Math.floor(balance / SCALE)
    },
  }
}
