import { describe, expect, it } from 'vitest'
import { backoffCeiling, defaultBackoff, fullJitterDelay } from './backoff.ts'
import { seededRandom } from './testing/seeded-random.ts'

describe('backoffCeiling', () => {
  it('doubles from the base and stops at the cap', () => {
    expect([0, 1, 2, 3, 4, 5, 10].map((retry) => backoffCeiling(retry))).toEqual([
      500, 1_000, 2_000, 4_000, 8_000, 8_000, 8_000,
    ])
  })

  it('takes a base and cap', () => {
    expect(backoffCeiling(2, { baseMs: 250, capMs: 20_000 })).toBe(1_000)
    expect(backoffCeiling(2, { capMs: 600 })).toBe(600)
  })

  it('stays finite for huge retry numbers and a zero base', () => {
    expect(backoffCeiling(10_000)).toBe(8_000)
    expect(backoffCeiling(10_000, { baseMs: 0 })).toBe(0)
  })

  it.each([-1, 0.5, Number.NaN])('rejects retry %s', (retry) => {
    expect(() => backoffCeiling(retry)).toThrow(RangeError)
  })

  it('rejects negative or infinite options', () => {
    expect(() => backoffCeiling(0, { baseMs: -1 })).toThrow(RangeError)
    expect(() => backoffCeiling(0, { capMs: Number.POSITIVE_INFINITY })).toThrow(RangeError)
  })
})

describe('fullJitterDelay (B1)', () => {
  it.each([0, 1, 2, 3, 4, 5, 6])(
    'retry %i: 10k seeded samples all lie in [0, bound] with a mean within ±5% of bound/2',
    (retry) => {
      const random = seededRandom(1_000 + retry)
      const bound = Math.min(defaultBackoff.capMs, defaultBackoff.baseMs * 2 ** retry)
      const samples = Array.from({ length: 10_000 }, () => fullJitterDelay(retry, random))
      expect(samples.filter((delay) => !(delay >= 0 && delay <= bound))).toEqual([])
      const mean = samples.reduce((sum, delay) => sum + delay, 0) / samples.length
      expect(Math.abs(mean - bound / 2)).toBeLessThanOrEqual(0.05 * (bound / 2))
    },
  )

  it('spans the whole interval rather than clustering near the bound', () => {
    const random = seededRandom(9)
    const samples = Array.from({ length: 10_000 }, () => fullJitterDelay(3, random))
    expect(Math.min(...samples)).toBeLessThan(40)
    expect(Math.max(...samples)).toBeGreaterThan(3_960)
  })
})
