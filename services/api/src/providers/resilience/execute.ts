import type { Clock } from '../../ids.ts'
import { type ProviderName, UpstreamFailure, type UpstreamFailureKind } from '../types.ts'
import { type BackoffOptions, fullJitterDelay, type Random } from './backoff.ts'
import { type CircuitBreaker, CircuitOpenError } from './circuit-breaker.ts'
import { isRetryable } from './classify.ts'
import type { RetryBudget } from './retry-budget.ts'
import type { Sleep } from './sleep.ts'

export type AttemptContext = {
  /** 1 for the first call. */
  attempt: number
  /** Aborts when the request deadline passes; pass it to fetch. */
  signal: AbortSignal
}

/** One upstream call, as stored on the generation record. */
export type AttemptRecord = {
  attempt: number
  /** Epoch ms. */
  startedAt: number
  durationMs: number
  outcome: 'success' | UpstreamFailureKind
  status?: number
  retryAfterMs?: number
  /** How long the executor waited before this attempt; absent on the first. */
  waitedMs?: number
}

export type ExecuteOptions = {
  provider: ProviderName
  /** Epoch ms after which no attempt runs and a running one is aborted. */
  deadlineAt: number
  clock: Clock
  sleep: Sleep
  random: Random
  /** Attempts in total, the first included. */
  maxAttempts?: number
  backoff?: Partial<BackoffOptions>
  breaker?: CircuitBreaker
  budget?: RetryBudget
  /**
   * Do not start an attempt with less time than this before the deadline: an image aborted
   * halfway is usually billed anyway. Set it near the provider's median latency.
   */
  minAttemptMs?: number
  /** Overrides the §4.2 table, e.g. to replay `ambiguous` for a provider that honours idempotency keys. */
  isRetryable?: (failure: UpstreamFailure) => boolean
  /** Called after every attempt; it must not throw. */
  onAttempt?: (record: AttemptRecord) => void
}

export type ExecuteResult<T> = { value: T; attempts: AttemptRecord[] }

export type GiveUpReason =
  | 'not_retryable'
  | 'attempts_exhausted'
  | 'deadline'
  | 'budget_exhausted'
  | 'circuit_open'

/**
 * The executor stopped without a value. `failure` is the last upstream failure (a
 * `CircuitOpenError` when the breaker refused, a `timeout` when the deadline cut an attempt
 * short); `attempts` is every call that went upstream, for the generation record.
 */
export class UpstreamCallFailed extends Error {
  readonly reason: GiveUpReason
  readonly failure: UpstreamFailure
  readonly attempts: AttemptRecord[]

  constructor(reason: GiveUpReason, failure: UpstreamFailure, attempts: AttemptRecord[]) {
    super(`${failure.provider} call failed (${reason}): ${failure.message}`, { cause: failure })
    this.name = 'UpstreamCallFailed'
    this.reason = reason
    this.failure = failure
    this.attempts = attempts
  }

  get kind(): UpstreamFailureKind {
    return this.failure.kind
  }
}

type AttemptResult<T> = { ok: true; value: T } | { ok: false; failure: UpstreamFailure }

/**
 * Runs `attempt` until it succeeds or retrying stops making sense: only
 * retryable kinds, at most `maxAttempts` (default 3), waiting max(full-jitter backoff, the
 * provider's Retry-After), never past `deadlineAt`, and only while the breaker is closed and
 * the retry budget lasts. Errors other than `UpstreamFailure` are bugs and propagate unchanged.
 */
export async function executeWithRetry<T>(
  attempt: (context: AttemptContext) => Promise<T>,
  options: ExecuteOptions,
): Promise<ExecuteResult<T>> {
  const { clock, deadlineAt, breaker, budget } = options
  const maxAttempts = options.maxAttempts ?? 3
  const minAttemptMs = options.minAttemptMs ?? 0
  const retryable = options.isRetryable ?? isRetryable
  const now = () => clock.now().getTime()
  const attempts: AttemptRecord[] = []
  let lastFailure: UpstreamFailure | undefined
  let waitedMs: number | undefined

  const giveUp = (reason: GiveUpReason, failure: UpstreamFailure) =>
    new UpstreamCallFailed(reason, failure, attempts)

  for (let number = 1; ; number++) {
    // The deadline is checked before the breaker: check() hands out the half-open probe slot.
    if (now() + minAttemptMs >= deadlineAt) {
      throw giveUp('deadline', lastFailure ?? deadlineFailure(options.provider, number))
    }
    const refusal = admit(breaker)
    if (refusal) {
      throw giveUp('circuit_open', refusal)
    }
    if (number === 1) {
      budget?.deposit()
    }

    const startedAt = now()
    const result = await runAttempt(attempt, number, options)
    const failure = result.ok ? undefined : result.failure
    const record: AttemptRecord = {
      attempt: number,
      startedAt,
      durationMs: now() - startedAt,
      outcome: failure?.kind ?? 'success',
      ...(failure?.status === undefined ? {} : { status: failure.status }),
      ...(failure?.retryAfterMs === undefined ? {} : { retryAfterMs: failure.retryAfterMs }),
      ...(waitedMs === undefined ? {} : { waitedMs }),
    }
    attempts.push(record)
    breaker?.record(record.outcome)
    options.onAttempt?.(record)
    if (result.ok) {
      return { value: result.value, attempts }
    }
    lastFailure = result.failure

    if (lastFailure.kind === 'timeout') {
      throw giveUp('deadline', lastFailure)
    }
    if (!retryable(lastFailure)) {
      throw giveUp('not_retryable', lastFailure)
    }
    if (number >= maxAttempts) {
      throw giveUp('attempts_exhausted', lastFailure)
    }
    const wait = Math.max(
      fullJitterDelay(number - 1, options.random, options.backoff),
      lastFailure.retryAfterMs ?? 0,
    )
    // Waiting only to find the deadline gone would hold the client for nothing: fail now.
    if (now() + wait + minAttemptMs >= deadlineAt) {
      throw giveUp('deadline', lastFailure)
    }
    if (breaker?.state() === 'open') {
      throw giveUp('circuit_open', admit(breaker) ?? lastFailure)
    }
    if (budget && !budget.tryWithdraw()) {
      throw giveUp('budget_exhausted', lastFailure)
    }
    await options.sleep(wait)
    waitedMs = wait
  }
}

function admit(breaker: CircuitBreaker | undefined): CircuitOpenError | undefined {
  try {
    breaker?.check()
    return undefined
  } catch (error) {
    if (error instanceof CircuitOpenError) {
      return error
    }
    throw error
  }
}

function deadlineFailure(provider: ProviderName, attempt: number): UpstreamFailure {
  return new UpstreamFailure('timeout', provider, `deadline passed before attempt ${attempt}`, {
    reason: 'deadline',
  })
}

/**
 * One call raced against the deadline. The attempt's signal aborts at the deadline, and the
 * executor stops waiting at that moment even if the adapter ignores the signal, so the client
 * gets its answer on time.
 */
async function runAttempt<T>(
  attempt: (context: AttemptContext) => Promise<T>,
  number: number,
  options: ExecuteOptions,
): Promise<AttemptResult<T>> {
  const controller = new AbortController()
  const settled = new AbortController()
  const remaining = options.deadlineAt - options.clock.now().getTime()

  const deadline = options.sleep(remaining, settled.signal).then((): Promise<AttemptResult<T>> => {
    if (settled.signal.aborted) {
      return new Promise(() => {})
    }
    const failure = new UpstreamFailure(
      'timeout',
      options.provider,
      `attempt ${number} ran past the request deadline`,
      { reason: 'deadline' },
    )
    controller.abort(failure)
    return Promise.resolve({ ok: false, failure })
  })

  const work = Promise.resolve()
    .then(() => attempt({ attempt: number, signal: controller.signal }))
    .then(
      (value): AttemptResult<T> => ({ ok: true, value }),
      (error: unknown): AttemptResult<T> => {
        if (error instanceof UpstreamFailure) {
          return { ok: false, failure: error }
        }
        throw error
      },
    )
  // When the deadline wins, a late rejection from the abandoned attempt has no one to hear it.
  work.catch(() => {})

  try {
    return await Promise.race([work, deadline])
  } finally {
    settled.abort()
  }
}
