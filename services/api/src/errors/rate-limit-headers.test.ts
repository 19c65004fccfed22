import { describe, expect, it } from 'vitest'
import type { PolicyState } from '../access/rate-limiter.ts'
import { parseSfList } from '../access/testing/structured-fields.ts'
import {
  formatResetDuration,
  rateLimitedHeaders,
  rateLimitHeaders,
  retryAfterHeaders,
} from './rate-limit-headers.ts'

const policy = (overrides: Partial<PolicyState>): PolicyState => ({
  name: 'key-requests',
  unit: 'requests',
  quota: 60,
  windowMs: 60_000,
  allowed: true,
  remaining: 59,
  nextUnitMs: 1000,
  resetMs: 1000,
  ...overrides,
})

describe('formatResetDuration', () => {
  it.each([
    [0, '0s'],
    [-5, '0s'],
    [0.2, '1ms'],
    [12, '12ms'],
    [999, '999ms'],
    [1000, '1s'],
    [1500, '1.5s'],
    [8640, '8.64s'],
    [59_999, '59.999s'],
    [60_000, '1m0s'],
    [90_500, '1m30.5s'],
    [360_000, '6m0s'],
    [3_600_000, '1h0m0s'],
    [3_723_004, '1h2m3.004s'],
  ])('%d ms → %s', (ms, text) => {
    expect(formatResetDuration(ms)).toBe(text)
  })
})

describe('retryAfterHeaders', () => {
  it('rounds seconds up and never says 0', () => {
    expect(retryAfterHeaders(6000)).toEqual({ 'retry-after': '6', 'retry-after-ms': '6000' })
    expect(retryAfterHeaders(6000.2)).toEqual({ 'retry-after': '7', 'retry-after-ms': '6001' })
    expect(retryAfterHeaders(1)).toEqual({ 'retry-after': '1', 'retry-after-ms': '1' })
  })

  it('says nothing about a wait that never ends', () => {
    expect(retryAfterHeaders(Number.POSITIVE_INFINITY)).toEqual({})
  })
})

describe('rateLimitHeaders', () => {
  it('says nothing when no policy applied', () => {
    expect(rateLimitHeaders([])).toEqual({})
  })

  it('lists every policy in the IETF fields, as valid structured-field lists', () => {
    const headers = rateLimitHeaders([
      policy({}),
      policy({ name: 'workspace-requests', quota: 600, remaining: 590, nextUnitMs: 0 }),
      policy({ name: 'key-images', unit: 'images', quota: 30, remaining: 26, nextUnitMs: 1500 }),
    ])
    expect(headers['ratelimit-policy']).toBe(
      '"key-requests";q=60;w=60, "workspace-requests";q=600;w=60, "key-images";q=30;w=60',
    )
    expect(parseSfList(headers['ratelimit-policy'] ?? '')).toHaveLength(3)
    expect(parseSfList(headers.ratelimit ?? '')).toEqual([
      { value: 'key-requests', params: { r: 59, t: 1 } },
      { value: 'workspace-requests', params: { r: 590, t: 0 } },
      { value: 'key-images', params: { r: 26, t: 2 } },
    ])
  })

  it('reports the binding policy per unit in the OpenAI headers', () => {
    const headers = rateLimitHeaders([
      policy({ remaining: 10, resetMs: 50_000 }),
      policy({ name: 'workspace-requests', quota: 600, remaining: 3, resetMs: 360_000 }),
      policy({ name: 'key-images', unit: 'images', quota: 30, remaining: 0, resetMs: 12 }),
    ])
    expect(headers).toMatchObject({
      'x-ratelimit-limit-requests': '600',
      'x-ratelimit-remaining-requests': '3',
      'x-ratelimit-reset-requests': '6m0s',
      'x-ratelimit-limit-images': '30',
      'x-ratelimit-remaining-images': '0',
      'x-ratelimit-reset-images': '12ms',
    })
  })

  it('breaks a tie on remaining by the longer reset', () => {
    const headers = rateLimitHeaders([
      policy({ remaining: 5, resetMs: 1000 }),
      policy({ name: 'workspace-requests', quota: 600, remaining: 5, resetMs: 2000 }),
    ])
    expect(headers['x-ratelimit-limit-requests']).toBe('600')
  })

  it('refuses a policy name that would break the field syntax', () => {
    expect(() => rateLimitHeaders([policy({ name: 'a"b' })])).toThrow()
  })
})

describe('rateLimitedHeaders', () => {
  it('adds the retry advice to the informational headers', () => {
    const headers = rateLimitedHeaders({
      allowed: false,
      retryAfterMs: 2500,
      policies: [policy({ allowed: false, remaining: 0, retryAfterMs: 2500, nextUnitMs: 2500 })],
    })
    expect(headers).toMatchObject({
      'retry-after': '3',
      'retry-after-ms': '2500',
      ratelimit: '"key-requests";r=0;t=3',
    })
  })
})
