import { describe, expect, it } from 'vitest'
import { parseIdempotencyKey } from '../access/idempotency-key.ts'
import { InsufficientCreditsError, ReservationClosedError } from '../access/ledger-errors.ts'
import type { RateLimitDecision } from '../access/rate-limiter.ts'
import {
  authLockedError,
  fromAccessError,
  idempotencyConflictError,
  invalidIdempotencyKeyError,
  missingScopeError,
  rateLimitedError,
  unauthorizedError,
} from './access-errors.ts'
import { errorTable } from './codes.ts'

const refused: RateLimitDecision = {
  allowed: false,
  retryAfterMs: 4500,
  policies: [
    {
      name: 'key-requests',
      unit: 'requests',
      quota: 10,
      windowMs: 60_000,
      allowed: false,
      remaining: 0,
      nextUnitMs: 4500,
      resetMs: 60_000,
      retryAfterMs: 4500,
    },
  ],
}

describe('access errors', () => {
  it('gives every authentication failure the same code and message', () => {
    const bodies = Array.from({ length: 3 }, () => unauthorizedError()).map((error) => [
      error.status,
      error.code,
      error.message,
    ])
    expect(new Set(bodies.map((body) => JSON.stringify(body))).size).toBe(1)
    expect(bodies[0]).toEqual([401, 'unauthorized', 'Missing or invalid API key'])
    expect(missingScopeError('admin')).toMatchObject({ status: 403, code: 'insufficient_scope' })
  })

  it('turns a lock-out and a rate limit into 429 with Retry-After', () => {
    expect(authLockedError({ locked: true, retryAfterMs: 12_000 })).toMatchObject({
      status: 429,
      code: 'rate_limited',
      headers: { 'retry-after': '12', 'retry-after-ms': '12000' },
      details: { retryAfterSeconds: 12 },
    })
    const limited = rateLimitedError(refused)
    expect(limited).toMatchObject({ status: 429, message: 'Rate limit exceeded: key-requests' })
    expect(limited.headers).toMatchObject({
      'retry-after': '5',
      ratelimit: '"key-requests";r=0;t=5',
      'x-ratelimit-remaining-requests': '0',
    })
  })

  it('tells a client not to retry a request larger than its limit', () => {
    const never = rateLimitedError({ ...refused, retryAfterMs: Number.POSITIVE_INFINITY })
    expect(never.shouldRetry).toBe(false)
    expect(never.headers['retry-after']).toBeUndefined()
  })

  it('maps idempotency outcomes to 400, 422 and 409', () => {
    const parsed = parseIdempotencyKey('')
    if (parsed.ok) {
      throw new Error('an empty key is invalid')
    }
    expect(invalidIdempotencyKeyError(parsed)).toMatchObject({
      status: 400,
      code: 'invalid_request',
      param: 'Idempotency-Key',
    })
    expect(idempotencyConflictError({ outcome: 'reused' })).toMatchObject({
      status: errorTable.idempotency_key_reused.status,
      code: 'idempotency_key_reused',
    })
    expect(idempotencyConflictError({ outcome: 'in_use', retryAfterMs: 800 })).toMatchObject({
      status: 409,
      code: 'idempotency_key_in_use',
      headers: { 'retry-after': '1', 'retry-after-ms': '800' },
    })
  })

  it('answers insufficient credits with cost and balance in credits, not to be retried', () => {
    const error = fromAccessError(new InsufficientCreditsError('ws', 16_700, 2_500))
    expect(error).toMatchObject({
      status: 402,
      code: 'insufficient_credits',
      details: { cost: 16.7, balance: 2.5 },
      shouldRetry: false,
    })
  })

  it('treats ledger invariant breaks as internal errors and ignores the rest', () => {
    expect(fromAccessError(new ReservationClosedError('rsv_1', 'settled'))?.code).toBe(
      'internal_error',
    )
    expect(fromAccessError(new Error('other'))).toBeUndefined()
  })
})
