import { describe, expect, it } from 'vitest'
import { UpstreamFailure, type UpstreamFailureKind } from '../types.ts'
import { classifyHttpStatus, isProviderDown, isRetryable, retryPolicy } from './classify.ts'
import { classifyTransportError } from './classify-transport.ts'

const connectError = new TypeError('fetch failed', {
  cause: Object.assign(new Error('connect ECONNREFUSED 10.0.0.1:443'), {
    code: 'ECONNREFUSED',
    syscall: 'connect',
  }),
})
const resetAfterSend = new TypeError('fetch failed', {
  cause: Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET', syscall: 'read' }),
})

type Row = { what: string; kind: UpstreamFailureKind; retry: boolean }

// The classification matrix: every kind of failure, and whether classifyFailure retries it.
const b3: [string, () => UpstreamFailureKind, Omit<Row, 'what'>][] = [
  ['connect error', () => classifyTransportError(connectError), { kind: 'not_sent', retry: true }],
  ['408', () => classifyHttpStatus(408), { kind: 'unavailable', retry: true }],
  ['409', () => classifyHttpStatus(409), { kind: 'unavailable', retry: true }],
  [
    '429 rate_limit_exceeded',
    () => classifyHttpStatus(429, 'rate_limit_exceeded'),
    { kind: 'rate_limited', retry: true },
  ],
  [
    '429 insufficient_quota',
    () => classifyHttpStatus(429, 'insufficient_quota'),
    { kind: 'quota', retry: false },
  ],
  ['500', () => classifyHttpStatus(500), { kind: 'ambiguous', retry: false }],
  ['502', () => classifyHttpStatus(502), { kind: 'unavailable', retry: true }],
  ['503', () => classifyHttpStatus(503), { kind: 'unavailable', retry: true }],
  ['504', () => classifyHttpStatus(504), { kind: 'unavailable', retry: true }],
  [
    'reset after send',
    () => classifyTransportError(resetAfterSend),
    { kind: 'ambiguous', retry: false },
  ],
  ['400', () => classifyHttpStatus(400), { kind: 'rejected', retry: false }],
  ['401', () => classifyHttpStatus(401), { kind: 'auth', retry: false }],
  ['422', () => classifyHttpStatus(422), { kind: 'rejected', retry: false }],
]

describe('retry classification (B3)', () => {
  it.each(b3)('%s → %o', (_what, classify, expected) => {
    const kind = classify()
    expect({ kind, retry: isRetryable(new UpstreamFailure(kind, 'openai', 'x')) }).toEqual(expected)
  })
})

describe('retryPolicy', () => {
  const kinds = Object.keys(retryPolicy) as UpstreamFailureKind[]

  it('retries only failures the provider cannot have processed', () => {
    expect(kinds.filter((kind) => isRetryable({ kind })).sort()).toEqual([
      'not_sent',
      'rate_limited',
      'unavailable',
    ])
  })

  it('lets only "provider is down" kinds count toward the breaker', () => {
    expect(kinds.filter(isProviderDown).sort()).toEqual([
      'ambiguous',
      'not_sent',
      'timeout',
      'unavailable',
    ])
  })
})

describe('classifyHttpStatus', () => {
  it.each<[number, string | undefined, UpstreamFailureKind]>([
    [400, 'billing_hard_limit_reached', 'quota'],
    [429, 'INSUFFICIENT_QUOTA', 'quota'],
    [402, undefined, 'quota'],
    [400, 'content_policy_violation', 'content_policy'],
    [400, 'moderation_blocked', 'content_policy'],
    [403, undefined, 'auth'],
    [404, undefined, 'rejected'],
    [413, undefined, 'rejected'],
    [429, undefined, 'rate_limited'],
    [429, 'RESOURCE_EXHAUSTED', 'rate_limited'],
    [429, 'slow_down', 'rate_limited'],
    [501, undefined, 'rejected'],
    [505, undefined, 'rejected'],
    [520, undefined, 'ambiguous'],
    [521, undefined, 'unavailable'],
    [522, undefined, 'unavailable'],
    [523, undefined, 'unavailable'],
    [524, undefined, 'ambiguous'],
    [529, undefined, 'unavailable'],
    [302, undefined, 'bad_response'],
  ])('%i %s → %s', (status, code, kind) => {
    expect(classifyHttpStatus(status, code)).toBe(kind)
  })
})
