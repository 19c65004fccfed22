import { randomBytes } from 'node:crypto'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { BASE62_ALPHABET, encodeBase62, randomBase62 } from './base62.ts'

function decodeBase62(digits: string): number {
  let value = 0
  for (const digit of digits) {
    value = value * 62 + BASE62_ALPHABET.indexOf(digit)
  }
  return value
}

describe('encodeBase62', () => {
  it('pads to the width and round-trips every 32-bit value', () => {
    expect(encodeBase62(0, 6)).toBe('000000')
    expect(encodeBase62(61, 2)).toBe('0z')
    expect(encodeBase62(62, 2)).toBe('10')
    expect(encodeBase62(0xffffffff, 6)).toBe('4gfFC3')
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 0xffffffff }), (value) => {
        const digits = encodeBase62(value, 6)
        expect(digits).toMatch(/^[0-9A-Za-z]{6}$/)
        expect(decodeBase62(digits)).toBe(value)
      }),
    )
  })

  it('refuses values that do not fit and non-integers', () => {
    expect(() => encodeBase62(62 ** 2, 2)).toThrow(RangeError)
    expect(() => encodeBase62(-1, 6)).toThrow(RangeError)
    expect(() => encodeBase62(1.5, 6)).toThrow(RangeError)
  })
})

describe('randomBase62', () => {
  it('returns exactly the requested number of alphabet digits', () => {
    for (const length of [0, 1, 43, 200]) {
      expect(randomBase62(length, randomBytes)).toMatch(new RegExp(`^[0-9A-Za-z]{${length}}$`))
    }
  })

  it('skips the bytes that would bias the low digits', () => {
    // A source that yields only biased bytes first, then 0 and 61.
    const queue = [248, 255, 249, 0, 61, 250]
    const source = (size: number) => Uint8Array.from(queue.splice(0, size))
    expect(randomBase62(2, source)).toBe('0z')
  })

  it('spreads digits evenly (chi-squared, 62 cells, 124,000 draws)', () => {
    const counts = new Map<string, number>()
    const sample = randomBase62(124_000, randomBytes)
    for (const digit of sample) {
      counts.set(digit, (counts.get(digit) ?? 0) + 1)
    }
    const expected = sample.length / 62
    let chiSquared = 0
    for (const digit of BASE62_ALPHABET) {
      chiSquared += ((counts.get(digit) ?? 0) - expected) ** 2 / expected
    }
    // 61 degrees of freedom: p = 0.0001 at about 112.
    expect(chiSquared).toBeLessThan(112)
  })
})
