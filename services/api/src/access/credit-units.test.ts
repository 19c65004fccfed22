import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { creditsToUnits, isWholeCreditUnits, unitsToCredits } from './credit-units.ts'

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

  it('tells amounts the ledger books exactly from those it would have to round', () => {
    expect([0, 0.001, 0.07, 0.3, 16.7, 1.005, 1e9, 1e21].every(isWholeCreditUnits)).toBe(true)
    expect(
      [0.0001, 1e-10, 0.0049, 1.0005, 2.5e-4, Number.NaN, Number.POSITIVE_INFINITY].some(
        isWholeCreditUnits,
      ),
    ).toBe(false)
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 1e12 }), (units) => {
        expect(isWholeCreditUnits(unitsToCredits(units))).toBe(true)
      }),
    )
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 1e9 }),
        fc.integer({ min: 1, max: 9 }),
        (units, tenth) => {
          expect(isWholeCreditUnits(units / 1000 + tenth / 10_000)).toBe(false)
        },
      ),
    )
  })

  it('refuses non-finite credits', () => {
    expect(() => creditsToUnits(Number.NaN)).toThrow(RangeError)
  })
})
