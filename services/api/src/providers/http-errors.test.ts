import { describe, expect, it } from 'vitest'
import { failureFromStatus } from './http-errors.ts'
import { isRetryable } from './resilience/classify.ts'
import type { UpstreamFailureKind } from './types.ts'

describe('failureFromStatus', () => {
  // The statuses where the adapters once had their own table are spelled out with the retry
  // decision, so a change of kind that changes what is retried shows up here.
  it.each<[number, UpstreamFailureKind, boolean]>([
    [400, 'rejected', false],
    [401, 'auth', false],
    [402, 'quota', false],
    [403, 'auth', false],
    [404, 'rejected', false],
    [408, 'unavailable', true],
    // A conflict (openai-node's lock timeout) was not applied: a replay cannot double-charge.
    [409, 'unavailable', true],
    [413, 'rejected', false],
    [422, 'rejected', false],
    [429, 'rate_limited', true],
    [500, 'ambiguous', false],
    // Not implemented / HTTP version not supported: permanent, not "may have run".
    [501, 'rejected', false],
    [502, 'unavailable', true],
    [503, 'unavailable', true],
    [504, 'unavailable', true],
    [505, 'rejected', false],
    [520, 'ambiguous', false],
    // Cloudflare could not reach the origin: the request never got there.
    [521, 'unavailable', true],
    [522, 'unavailable', true],
    [523, 'unavailable', true],
    // The origin had the request when the proxy gave up on it.
    [524, 'ambiguous', false],
    [529, 'unavailable', true],
  ])('%i is %s (retry: %s)', (status, kind, retry) => {
    const failure = failureFromStatus('openai', status, { message: 'x' })
    expect(failure).toMatchObject({ kind, status })
    expect(isRetryable(failure)).toBe(retry)
  })

  it('decides by status alone: a provider code does not change the kind', () => {
    const failure = failureFromStatus('gemini', 400, {
      message: 'x',
      upstreamCode: 'insufficient_quota',
    })
    expect(failure).toMatchObject({ kind: 'rejected', upstreamCode: 'insufficient_quota' })
  })

  it('keeps the advised wait and names the provider in the message', () => {
    expect(
      failureFromStatus('gemini', 503, { message: 'overloaded', retryAfterMs: 1500 }),
    ).toMatchObject({
      provider: 'gemini',
      retryAfterMs: 1500,
      message: 'Gemini answered 503: overloaded',
    })
  })
})
