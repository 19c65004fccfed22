import type { Clock } from '../ids.ts'
import type { IdempotencyScope, IdempotencyStore, StoredResponse } from './idempotency-store.ts'
import type { ReservationClose } from './ledger-types.ts'

/**
 * Stripe / IETF-draft idempotency, independent of HTTP:
 * - the first request with a key claims it with a lease and runs;
 * - the same key and the same request after completion gets the stored response, byte for byte;
 * - the same key with a different request is refused (422 idempotency_key_reused);
 * - the same key while the first is still running is refused (409 idempotency_key_in_use);
 * - 429 and 5xx results are not kept: the key is released and a retry runs again;
 * - records expire after 24 h; a lease that runs out (a crash mid-flight) lets the same request
 *   take the key over, so a key is never stuck.
 */
export const IDEMPOTENCY_RETENTION_MS = 24 * 60 * 60 * 1000

export type IdempotencyOptions = {
  store: IdempotencyStore
  clock: Clock
  /** A fresh random id per attempt. */
  newToken: () => string
  /** How long a claim holds the key; must exceed the longest upstream deadline. */
  leaseMs: number
  retentionMs?: number
  /** The Retry-After suggested to a duplicate that arrives while the first is running. */
  inUseRetryAfterMs?: number
}

export type IdempotentRequest = IdempotencyScope & { fingerprint: string }

export type IdempotencyClaim = {
  scope: IdempotencyScope
  token: string
  fingerprint: string
  leaseUntilMs: number
  /**
   * When the key was first claimed. A take-over keeps it, so `key@createdAtMs` names one logical
   * request across attempts (a reference for writes that must happen once, e.g. a grant).
   */
  createdAtMs: number
  /**
   * Set when this claim took over from an attempt whose lease ran out: that attempt's token,
   * so its credit reservation can be released in the same commit as the new one is made.
   */
  superseded?: string
}

export type BeginOutcome =
  | { outcome: 'claimed'; claim: IdempotencyClaim }
  | { outcome: 'replay'; response: StoredResponse }
  | { outcome: 'reused' }
  | { outcome: 'in_use'; retryAfterMs: number }

/** stored: kept for replay · released: the key may run again · lost: another attempt owns it. */
export type FinishOutcome = 'stored' | 'released' | 'lost'

/** Fullstory's variant of Stripe's rule: keep every result except 429 and 5xx. */
export function isStorableStatus(status: number): boolean {
  return status !== 429 && status < 500
}

export type Idempotency = ReturnType<typeof createIdempotency>

export function createIdempotency(options: IdempotencyOptions) {
  const { store, clock, newToken, leaseMs } = options
  const retentionMs = options.retentionMs ?? IDEMPOTENCY_RETENTION_MS
  const inUseRetryAfterMs = options.inUseRetryAfterMs ?? 1000
  if (!(leaseMs > 0 && leaseMs < retentionMs)) {
    throw new RangeError('leaseMs must be positive and shorter than the retention')
  }
  const nowMs = () => clock.now().getTime()

  /**
   * The decision for one incoming request. `claimed` means: run it, then call `finish` (or
   * `abandon` if it throws before it has a response).
   */
  async function begin(request: IdempotentRequest): Promise<BeginOutcome> {
    const now = nowMs()
    const scope = { workspaceId: request.workspaceId, key: request.key }
    const result = await store.claim(scope, {
      token: newToken(),
      fingerprint: request.fingerprint,
      nowMs: now,
      leaseUntilMs: now + leaseMs,
      expiresAtMs: now + retentionMs,
    })
    if (result.claimed) {
      return {
        outcome: 'claimed',
        claim: {
          scope,
          token: result.record.token,
          fingerprint: result.record.fingerprint,
          leaseUntilMs: result.record.leaseUntilMs,
          createdAtMs: result.record.createdAtMs,
          ...(result.superseded ? { superseded: result.superseded } : {}),
        },
      }
    }
    const { record } = result
    if (record.fingerprint !== request.fingerprint) {
      return { outcome: 'reused' }
    }
    if (record.state === 'completed') {
      return { outcome: 'replay', response: record.response }
    }
    return {
      outcome: 'in_use',
      retryAfterMs: Math.max(1, Math.min(inUseRetryAfterMs, record.leaseUntilMs - now)),
    }
  }

  /**
   * Records the result of a claimed request: stored for replay, or released if it was a 429 or
   * 5xx. `closing` is told which way it went and answers the reservation to close in the same
   * commit, which happens only while the claim is still owned: that is where the ledger settles
   * (stored) or releases (released) the hold, so "answer kept" and "credits moved" can never
   * disagree.
   */
  async function finish(
    claim: IdempotencyClaim,
    response: StoredResponse,
    closing?: (outcome: 'stored' | 'released') => ReservationClose | undefined,
  ): Promise<FinishOutcome> {
    if (isStorableStatus(response.status)) {
      const stored = await store.complete(
        claim.scope,
        claim.token,
        response,
        nowMs() + retentionMs,
        closing?.('stored'),
      )
      return stored ? 'stored' : 'lost'
    }
    const released = await store.release(claim.scope, claim.token, closing?.('released'))
    return released ? 'released' : 'lost'
  }

  /** Gives the key back without a result (the handler threw); `closing` as for `finish`. */
  function abandon(
    claim: IdempotencyClaim,
    closing?: () => ReservationClose | undefined,
  ): Promise<boolean> {
    return store.release(claim.scope, claim.token, closing?.())
  }

  return { begin, finish, abandon, purgeExpired: () => store.purgeExpired(nowMs()) }
}
