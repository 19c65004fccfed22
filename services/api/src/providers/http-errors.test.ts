import { describe, expect, it } from 'vitest'
import { failureFromStatus, parseRetryAfter } from './http-errors.ts'

const NOW = new Date('2026-11-21T12:00:00Z')

describe('parseRetryAfter', () => {
  it.each([
    [{ 'retry-after-ms': '1500' }, 1500],
    [{ 'retry-after-ms': '250.4', 'retry-after': '9' }, 251],
    [{ 'retry-after-ms': 'soon', 'retry-after': '9' }, 9000],
    [{ 'retry-after': '2' }, 2000],
    [{ 'retry-after': '0' }, 0],
    [{ 'retry-after': '1.5' }, 1500],
    [{ 'retry-after': 'Sat, 21 Nov 2026 12:00:30 GMT' }, 30_000],
    [{ 'retry-after': 'Saturday, 21-Nov-26 12:01:00 GMT' }, 60_000],
    [{ 'retry-after': 'Sat, 21 Nov 2026 11:59:00 GMT' }, 0],
    [{ 'retry-after': '-1' }, undefined],
    [{ 'retry-after': 'later' }, undefined],
    [{}, undefined],
  ])('%o → %s', (headers, expected) => {
    expect(parseRetryAfter(new Headers(headers), NOW)).toBe(expected)
  })
})

describe('failureFromStatus', () => {
  it.each([
    [400, 'rejected'],
    [401, 'auth'],
    [402, 'quota'],
    [403, 'auth'],
    [404, 'rejected'],
    [408, 'unavailable'],
    [409, 'rejected'],
    [413, 'rejected'],
    [422, 'rejected'],
    [429, 'rate_limited'],
    [500, 'ambiguous'],
    [501, 'ambiguous'],
    [502, 'unavailable'],
    [503, 'unavailable'],
    [504, 'unavailable'],
    [524, 'ambiguous'],
  ])('%i is %s', (status, kind) => {
    expect(failureFromStatus('openai', status, { message: 'x' })).toMatchObject({ kind, status })
  })
})
