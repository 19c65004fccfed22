import { describe, expect, it } from 'vitest'
import { parseRetryAfter, parseRetryAfterMs, parseRetryAfterValue } from './retry-after.ts'

const NOW = new Date('2026-11-21T12:00:00Z')

describe('parseRetryAfter', () => {
  it.each([
    ['retry-after-ms', { 'retry-after-ms': '1500' }, 1_500],
    ['fractional retry-after-ms, rounded up', { 'retry-after-ms': '1500.2' }, 1_501],
    ['Retry-After seconds', { 'retry-after': '2' }, 2_000],
    ['Retry-After zero', { 'retry-after': '0' }, 0],
    ['Retry-After HTTP-date', { 'retry-after': 'Sat, 21 Nov 2026 12:00:30 GMT' }, 30_000],
    ['Retry-After date in the past', { 'retry-after': 'Sat, 21 Nov 2026 11:59:00 GMT' }, 0],
    ['retry-after-ms wins over Retry-After', { 'retry-after-ms': '250', 'retry-after': '9' }, 250],
    [
      'garbage ms falls back to Retry-After',
      { 'retry-after-ms': 'soon', 'retry-after': '3' },
      3_000,
    ],
    ['nothing', {}, undefined],
    ['negative ms', { 'retry-after-ms': '-5' }, undefined],
    ['negative seconds', { 'retry-after': '-1' }, undefined],
    ['fractional seconds (not delay-seconds)', { 'retry-after': '1.5' }, undefined],
    ['garbage', { 'retry-after': 'later' }, undefined],
    ['a bare number that Date.parse would accept', { 'retry-after': '2x' }, undefined],
  ])('%s', (_case, headers, expected) => {
    expect(parseRetryAfter(new Headers(headers), NOW)).toBe(expected)
  })

  it('reads header names case-insensitively through Headers', () => {
    expect(parseRetryAfter(new Headers({ 'Retry-After': '4' }), NOW)).toBe(4_000)
  })

  it('rejects values too large to be a safe number of milliseconds', () => {
    expect(parseRetryAfterValue('9'.repeat(30), NOW)).toBeUndefined()
    expect(parseRetryAfterMs('9'.repeat(30))).toBeUndefined()
  })

  it('trims surrounding whitespace', () => {
    expect(parseRetryAfterMs(' 10 ')).toBe(10)
    expect(parseRetryAfterValue(' 1 ', NOW)).toBe(1_000)
  })
})
