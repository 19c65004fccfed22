import type { AuthFailureState } from '../access/auth-failures.ts'
import { unitsToCredits } from '../access/credit-units.ts'
import type { BeginOutcome } from '../access/idempotency-claims.ts'
import type { ParsedIdempotencyKey } from '../access/idempotency-key.ts'
import {
  InsufficientCreditsError,
  ReservationClosedError,
  ReservationConflictError,
  ReservationNotFoundError,
} from '../access/ledger-errors.ts'
import type { RateLimitDecision } from '../access/rate-limiter.ts'
import type { Access } from '../access/scopes.ts'
import { AppError, InvalidRequestError } from './app-error.ts'
import { rateLimitedHeaders, retryAfterHeaders } from './rate-limit-headers.ts'

/**
 * Access outcomes as AppErrors, so `errors/handlers.ts` stays the only place that writes an
 * error body. Nothing here is a response yet.
 */

/**
 * Refusals come at request rates, an attacker's included, so their errors are made without a
 * stack trace: capturing one (through the middleware's async frames) cost ~12 µs, a tenth of a
 * refused request, and nobody reads the stack of a 4xx.
 */
function refusal(...args: ConstructorParameters<typeof AppError>): AppError {
  const limit = Error.stackTraceLimit
  Error.stackTraceLimit = 0
  try {
    return new AppError(...args)
  } finally {
    Error.stackTraceLimit = limit
  }
}

/**
 * One body for every authentication failure: missing, malformed, bad checksum, unknown, revoked.
 * RFC 6750 §3: a 401 names the scheme in WWW-Authenticate. One shared instance: it never
 * changes, and a flood of wrong keys then allocates no error at all.
 */
const UNAUTHORIZED = refusal('unauthorized', 'Missing or invalid API key', {
  headers: { 'www-authenticate': 'Bearer realm="imagegate"' },
})

export function unauthorizedError(): AppError {
  return UNAUTHORIZED
}

/**
 * A valid key without the scope: 403 insufficient_scope, as RFC 6750 §3.1 defines it. The key
 * was recognised, so this is not an authentication failure and the failed-auth limiter ignores
 * it. The answer is the same for every id, so it tells nothing about other workspaces.
 */
export function missingScopeError(needed: Access): AppError {
  return refusal('insufficient_scope', `This API key lacks the '${needed}' scope`, {
    headers: {
      'www-authenticate': `Bearer realm="imagegate", error="insufficient_scope", scope="${needed}"`,
    },
  })
}

/** An expired, forged or malformed signed URL (no API key was offered instead). */
export function invalidSignatureError(): AppError {
  return refusal('invalid_signature', 'The signed URL is expired or its signature is invalid')
}

const retrySeconds = (ms: number) => Math.max(1, Math.ceil(ms / 1000))

export function authLockedError(state: Extract<AuthFailureState, { locked: true }>): AppError {
  return refusal('rate_limited', 'Too many failed authentication attempts; retry later', {
    headers: retryAfterHeaders(state.retryAfterMs),
    details: { retryAfterSeconds: retrySeconds(state.retryAfterMs) },
  })
}

/** 429 rate_limited, with the retry advice and every rate-limit header. */
export function rateLimitedError(decision: RateLimitDecision): AppError {
  const violated = decision.policies
    .filter((policy) => !policy.allowed)
    .map((policy) => policy.name)
  const headers = rateLimitedHeaders(decision)
  if (!Number.isFinite(decision.retryAfterMs)) {
    return refusal(
      'rate_limited',
      `This request needs more than the ${violated.join(', ')} limit allows at once`,
      { headers, shouldRetry: false },
    )
  }
  return refusal('rate_limited', `Rate limit exceeded: ${violated.join(', ')}`, {
    headers,
    details: { retryAfterSeconds: retrySeconds(decision.retryAfterMs) },
  })
}

export function invalidIdempotencyKeyError(
  parsed: Extract<ParsedIdempotencyKey, { ok: false }>,
): AppError {
  return new InvalidRequestError(parsed.message, { param: 'Idempotency-Key' })
}

/** The answer for an idempotent request that may not run: 422 reused or 409 in use. */
export function idempotencyConflictError(
  outcome: Extract<BeginOutcome, { outcome: 'reused' | 'in_use' }>,
): AppError {
  if (outcome.outcome === 'reused') {
    return refusal(
      'idempotency_key_reused',
      'This Idempotency-Key was already used for a different request',
      { param: 'Idempotency-Key' },
    )
  }
  return refusal(
    'idempotency_key_in_use',
    'A request with this Idempotency-Key is still in progress; retry after it completes',
    {
      param: 'Idempotency-Key',
      headers: retryAfterHeaders(outcome.retryAfterMs),
      details: { retryAfterSeconds: retrySeconds(outcome.retryAfterMs) },
    },
  )
}

/** For `errors/domain.ts`: the ledger's typed errors (amounts shown in credits). */
export function fromAccessError(err: unknown): AppError | undefined {
  if (err instanceof InsufficientCreditsError) {
    const cost = unitsToCredits(err.cost)
    const balance = unitsToCredits(err.balance)
    return new AppError(
      'insufficient_credits',
      `This request costs ${cost} credits; the workspace has ${balance}`,
      { details: { cost, balance }, shouldRetry: false },
    )
  }
  if (
    err instanceof ReservationConflictError ||
    err instanceof ReservationClosedError ||
    err instanceof ReservationNotFoundError
  ) {
    // A broken invariant in the caller, never the client's doing.
    return new AppError('internal_error', 'Internal error', { cause: err })
  }
  return undefined
}
