import fc from 'fast-check'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { UpstreamFailure, type UpstreamFailureKind } from '../types.ts'
import { createCircuitBreaker } from './circuit-breaker.ts'
import {
  type AttemptContext,
  type AttemptRecord,
  type ExecuteOptions,
  executeWithRetry,
  UpstreamCallFailed,
} from './execute.ts'
import { parseRetryAfter } from './retry-after.ts'
import { createRetryBudget } from './retry-budget.ts'
import { systemSleep } from './sleep.ts'

const T0 = Date.UTC(2026, 10, 21, 12)
// Date is faked below, so this clock moves with the fake timers.
const clock = { now: () => new Date() }

function options(overrides: Partial<ExecuteOptions> = {}): ExecuteOptions {
  return {
    provider: 'openai',
    deadlineAt: T0 + 60_000,
    clock,
    sleep: systemSleep,
    random: () => 0.5,
    ...overrides,
  }
}

function failure(
  kind: UpstreamFailureKind,
  details: { status?: number; retryAfterMs?: number } = {},
) {
  return new UpstreamFailure(kind, 'openai', `${kind} from the fake upstream`, details)
}

/** Drives the fake timers until the executor settles; returns its outcome and the fake time taken. */
async function settle<T>(run: Promise<T>) {
  const outcome = run.then(
    (value) => ({ value, error: undefined }),
    (error: unknown) => ({ value: undefined, error }),
  )
  let done = false
  void outcome.then(() => {
    done = true
  })
  while (!done) {
    await vi.advanceTimersToNextTimerAsync()
  }
  return { ...(await outcome), elapsedMs: Date.now() - T0 }
}

function failed(error: unknown): UpstreamCallFailed {
  expect(error).toBeInstanceOf(UpstreamCallFailed)
  return error as UpstreamCallFailed
}

beforeEach(() => {
  vi.useFakeTimers({ now: T0 })
})
afterEach(() => {
  vi.useRealTimers()
})

describe('executeWithRetry', () => {
  it('returns the value with one success record', async () => {
    const { value } = await settle(
      executeWithRetry(async () => {
        await systemSleep(1_200)
        return 'image'
      }, options()),
    )
    expect(value).toEqual({
      value: 'image',
      attempts: [{ attempt: 1, startedAt: T0, durationMs: 1_200, outcome: 'success' }],
    })
  })

  it('hands each attempt its number and a live signal', async () => {
    const seen: AttemptContext[] = []
    await settle(
      executeWithRetry(async (context) => {
        seen.push(context)
        if (context.attempt < 3) {
          throw failure('unavailable', { status: 503 })
        }
      }, options()),
    )
    expect(seen.map((context) => context.attempt)).toEqual([1, 2, 3])
    expect(seen.every((context) => !context.signal.aborted)).toBe(true)
  })

  it('stops after maxAttempts and records every attempt with the wait before it', async () => {
    const records: AttemptRecord[] = []
    const { error } = await settle(
      executeWithRetry(
        async () => {
          throw failure('unavailable', { status: 503 })
        },
        options({ onAttempt: (record) => records.push(record) }),
      ),
    )
    const gaveUp = failed(error)
    expect(gaveUp.reason).toBe('attempts_exhausted')
    expect(gaveUp.kind).toBe('unavailable')
    // random 0.5 → half of 500 ms, then half of 1 000 ms.
    expect(gaveUp.attempts).toEqual([
      { attempt: 1, startedAt: T0, durationMs: 0, outcome: 'unavailable', status: 503 },
      {
        attempt: 2,
        startedAt: T0 + 250,
        durationMs: 0,
        outcome: 'unavailable',
        status: 503,
        waitedMs: 250,
      },
      {
        attempt: 3,
        startedAt: T0 + 750,
        durationMs: 0,
        outcome: 'unavailable',
        status: 503,
        waitedMs: 500,
      },
    ])
    expect(records).toEqual(gaveUp.attempts)
  })

  it.each<UpstreamFailureKind>([
    'rejected',
    'auth',
    'content_policy',
    'quota',
    'bad_response',
    'ambiguous',
  ])('makes exactly one attempt for %s', async (kind) => {
    const attempt = vi.fn(async () => {
      throw failure(kind)
    })
    const gaveUp = failed((await settle(executeWithRetry(attempt, options()))).error)
    expect(gaveUp).toMatchObject({ reason: 'not_retryable', kind })
    expect(attempt).toHaveBeenCalledTimes(1)
  })

  it('replays ambiguous failures only when the caller opts in', async () => {
    const attempt = vi.fn(async () => {
      throw failure('ambiguous', { status: 500 })
    })
    const { error } = await settle(
      executeWithRetry(attempt, options({ isRetryable: (f) => f.kind === 'ambiguous' })),
    )
    expect(failed(error).reason).toBe('attempts_exhausted')
    expect(attempt).toHaveBeenCalledTimes(3)
  })

  it('lets errors that are not upstream failures through unchanged', async () => {
    const bug = new TypeError('cannot read properties of undefined')
    const { error } = await settle(
      executeWithRetry(async () => {
        throw bug
      }, options()),
    )
    expect(error).toBe(bug)
  })

  describe('Retry-After (B2)', () => {
    async function gapAfter(headers: Record<string, string>) {
      const attempt = vi.fn(async ({ attempt }: AttemptContext) => {
        if (attempt === 1) {
          const retryAfterMs = parseRetryAfter(new Headers(headers), clock.now())
          throw failure('rate_limited', {
            status: 429,
            ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
          })
        }
        return 'ok'
      })
      const { value } = await settle(executeWithRetry(attempt, options({ random: () => 0.99 })))
      const [first, second] = value?.attempts ?? []
      return (second?.startedAt ?? Number.NaN) - (first?.startedAt ?? Number.NaN)
    }

    it.each([
      ['retry-after-ms: 1500', { 'retry-after-ms': '1500' }, 1_500],
      ['Retry-After: 2', { 'retry-after': '2' }, 2_000],
      [
        'Retry-After as an HTTP-date 3 s ahead',
        { 'retry-after': new Date(T0 + 3_000).toUTCString() },
        3_000,
      ],
    ])('waits for %s', async (_case, headers, advisedMs) => {
      const gap = await gapAfter(headers)
      expect(gap).toBeGreaterThanOrEqual(advisedMs)
      expect(gap).toBeLessThanOrEqual(advisedMs + 10)
    })

    it('keeps its own backoff when it is longer than the advice', async () => {
      // random 0.99 → 495 ms of jitter beats 100 ms of advice.
      expect(await gapAfter({ 'retry-after-ms': '100' })).toBeCloseTo(495, 0)
    })

    it('fails at once, after one attempt, when the advice reaches past the deadline', async () => {
      const attempt = vi.fn(async () => {
        throw failure('rate_limited', { status: 429, retryAfterMs: 10_000 })
      })
      const { error, elapsedMs } = await settle(
        executeWithRetry(attempt, options({ deadlineAt: T0 + 5_000 })),
      )
      const gaveUp = failed(error)
      expect(gaveUp).toMatchObject({ reason: 'deadline', kind: 'rate_limited' })
      // The advice survives so the gateway can pass Retry-After on to its client.
      expect(gaveUp.failure.retryAfterMs).toBe(10_000)
      expect(attempt).toHaveBeenCalledTimes(1)
      expect(elapsedMs).toBe(0)
    })
  })

  describe('deadline (B5)', () => {
    it('aborts an attempt that runs past the deadline and reports it as a timeout', async () => {
      let signal: AbortSignal | undefined
      const { error, elapsedMs } = await settle(
        executeWithRetry(
          (context) => {
            signal = context.signal
            return new Promise<never>(() => {})
          },
          options({ deadlineAt: T0 + 30_000 }),
        ),
      )
      const gaveUp = failed(error)
      expect(gaveUp).toMatchObject({ reason: 'deadline', kind: 'timeout' })
      expect(gaveUp.attempts).toEqual([
        { attempt: 1, startedAt: T0, durationMs: 30_000, outcome: 'timeout' },
      ])
      expect(elapsedMs).toBe(30_000)
      expect(signal?.aborted).toBe(true)
      expect(signal?.reason).toBe(gaveUp.failure)
    })

    it('makes no attempt when the deadline has already passed', async () => {
      const attempt = vi.fn(async () => 'late')
      const { error } = await settle(executeWithRetry(attempt, options({ deadlineAt: T0 })))
      expect(failed(error)).toMatchObject({ reason: 'deadline', kind: 'timeout', attempts: [] })
      expect(attempt).not.toHaveBeenCalled()
    })

    it('does not start an attempt with less than minAttemptMs left', async () => {
      const attempt = vi.fn(async () => {
        throw failure('unavailable', { status: 503 })
      })
      const { error, elapsedMs } = await settle(
        executeWithRetry(attempt, options({ deadlineAt: T0 + 10_000, minAttemptMs: 9_900 })),
      )
      expect(failed(error)).toMatchObject({ reason: 'deadline', kind: 'unavailable' })
      expect(attempt).toHaveBeenCalledTimes(1)
      expect(elapsedMs).toBe(0)
    })

    it('leaves no timer running once it settles', async () => {
      await settle(executeWithRetry(async () => 'ok', options()))
      expect(vi.getTimerCount()).toBe(0)
    })

    it('ends within deadline + 50 ms and starts nothing after it, for any mix of latencies and failures', async () => {
      const step = fc.record({
        latencyMs: fc.integer({ min: 0, max: 20_000 }),
        kind: fc.constantFrom<UpstreamFailureKind | 'success'>(
          'unavailable',
          'rate_limited',
          'not_sent',
          'success',
        ),
        retryAfterMs: fc.option(fc.integer({ min: 0, max: 15_000 }), { nil: undefined }),
        honoursSignal: fc.boolean(),
      })
      await fc.assert(
        fc.asyncProperty(
          fc.array(step, { minLength: 5, maxLength: 5 }),
          fc.integer({ min: 1, max: 40_000 }),
          fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
          async (steps, budgetMs, jitter) => {
            vi.setSystemTime(T0)
            const deadlineAt = T0 + budgetMs
            const run = executeWithRetry(
              async ({ attempt, signal }) => {
                const step = steps[attempt - 1]
                if (!step) {
                  throw new Error(`attempt ${attempt} has no scripted step`)
                }
                const { latencyMs, kind, retryAfterMs, honoursSignal } = step
                await systemSleep(latencyMs, honoursSignal ? signal : undefined)
                if (kind === 'success') {
                  return 'ok'
                }
                throw failure(kind, retryAfterMs === undefined ? {} : { retryAfterMs })
              },
              options({ deadlineAt, random: () => jitter, maxAttempts: 5 }),
            )
            const { error, value, elapsedMs } = await settle(run)
            expect(T0 + elapsedMs).toBeLessThanOrEqual(deadlineAt + 50)
            const attempts = value?.attempts ?? failed(error).attempts
            expect(attempts.every((record) => record.startedAt < deadlineAt)).toBe(true)
            // Drain the sleeps of attempts the deadline abandoned before the next run.
            await vi.runAllTimersAsync()
          },
        ),
        { numRuns: 200 },
      )
    })
  })

  describe('breaker and budget', () => {
    it('makes no attempt while the breaker is open', async () => {
      const breaker = createCircuitBreaker({ provider: 'openai', clock })
      for (let i = 0; i < 5; i++) {
        breaker.record('unavailable')
      }
      const attempt = vi.fn(async () => 'never')
      const { error } = await settle(executeWithRetry(attempt, options({ breaker })))
      expect(failed(error)).toMatchObject({
        reason: 'circuit_open',
        kind: 'unavailable',
        attempts: [],
        failure: { retryAfterMs: 10_000, reason: 'circuit_open' },
      })
      expect(attempt).not.toHaveBeenCalled()
    })

    it('stops retrying, without waiting, once its own failures open the breaker', async () => {
      const breaker = createCircuitBreaker({ provider: 'openai', clock, consecutiveFailures: 2 })
      const attempt = vi.fn(async () => {
        throw failure('unavailable', { status: 503 })
      })
      const { error, elapsedMs } = await settle(executeWithRetry(attempt, options({ breaker })))
      expect(failed(error)).toMatchObject({ reason: 'circuit_open', kind: 'unavailable' })
      expect(failed(error).attempts).toHaveLength(2)
      expect(elapsedMs).toBe(250)
    })

    it('records every outcome on the breaker, successes included', async () => {
      // Two failures then a success per request: only a recorded success keeps the run below 3.
      const breaker = createCircuitBreaker({
        provider: 'openai',
        clock,
        consecutiveFailures: 3,
        failureRatio: 1,
      })
      let calls = 0
      const flaky = async () => {
        calls += 1
        if (calls % 3 !== 0) {
          throw failure('unavailable', { status: 503 })
        }
        return 'ok'
      }
      for (let i = 0; i < 5; i++) {
        await settle(executeWithRetry(flaky, options({ breaker })))
      }
      expect(breaker.state()).toBe('closed')
    })

    it('gives up when the retry budget is spent', async () => {
      const budget = createRetryBudget({ clock })
      const attempt = vi.fn(async () => {
        throw failure('unavailable', { status: 503 })
      })
      const { error } = await settle(executeWithRetry(attempt, options({ budget })))
      // A fresh budget holds 0.2 (one deposit) plus 10/s × 0 s: not one whole retry.
      expect(failed(error).reason).toBe('budget_exhausted')
      expect(attempt).toHaveBeenCalledTimes(1)
    })
  })
})
