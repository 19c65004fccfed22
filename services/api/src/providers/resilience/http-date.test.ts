import { describe, expect, it } from 'vitest'
import { parseHttpDate } from './http-date.ts'

const NOW = new Date('2026-11-21T12:00:00Z')
const NOV_6_1994 = Date.UTC(1994, 10, 6, 8, 49, 37)

describe('parseHttpDate', () => {
  it.each([
    ['IMF-fixdate', 'Sun, 06 Nov 1994 08:49:37 GMT'],
    ['obsolete RFC 850', 'Sunday, 06-Nov-94 08:49:37 GMT'],
    ['obsolete asctime (space-padded day)', 'Sun Nov  6 08:49:37 1994'],
    ['obsolete asctime (two-digit day)', 'Sun Nov 06 08:49:37 1994'],
  ])('reads the %s form as UTC', (_form, value) => {
    expect(parseHttpDate(value, NOW)).toBe(NOV_6_1994)
  })

  it('reads a two-digit year as at most 50 years ahead of now', () => {
    expect(parseHttpDate('Friday, 01-Jan-27 00:00:00 GMT', NOW)).toBe(Date.UTC(2027, 0, 1))
    expect(parseHttpDate('Monday, 01-Jan-77 00:00:00 GMT', NOW)).toBe(Date.UTC(1977, 0, 1))
    const nearCentury = new Date('2099-06-01T00:00:00Z')
    expect(parseHttpDate('Monday, 01-Jan-05 00:00:00 GMT', nearCentury)).toBe(Date.UTC(2105, 0, 1))
  })

  it.each([
    '2',
    '',
    'garbage',
    '-1',
    '1994-11-06T08:49:37Z',
    'Sun, 06 Nov 1994 08:49:37 +0100',
    'Sun, 6 Nov 1994 08:49:37 GMT',
    'Sun, 31 Feb 1994 08:49:37 GMT',
    'Sun, 06 Nov 1994 25:00:00 GMT',
    'Sun, 06 Foo 1994 08:49:37 GMT',
  ])('rejects %j', (value) => {
    expect(parseHttpDate(value, NOW)).toBeUndefined()
  })
})
