import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { creditsToUnits, unitsToCredits } from './credit-units.ts'

describe('credit units', () => {
  it('turns catalog prices into exact whole units', () => {
    expect([0, 1.1, 4.2, 16.7, 25, 1000].map(creditsToUnits)).toEqual([
      0, 1100, 4200, 16_700, 25_000, 1_000_000,
    ])
    expect(creditsToUnits(16.7 * 3)).toBe(50_100)
  })

  it('round-trips every amount with up to three decimals', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 1e12 }), (units) => {
        expect(creditsToUnits(unitsToCredits(units))).toBe(units)
      }),
    )
  })

  it('refuses non-finite credits', () => {
    expect(() => creditsToUnits(Number.NaN)).toThrow(RangeError)
  })
})
