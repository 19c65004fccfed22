/**
 * The ledger counts whole units so that no sum ever rounds. One credit is one US cent (the
 * catalog's price unit); catalog prices have at most three decimals (gpt-image-1 low: 1.1), so
 * the ledger keeps thousandths of a credit.
 */
export const UNITS_PER_CREDIT = 1000

/** Credits (as the API and the catalog state them) to ledger units, rounded to the nearest unit. */
export function creditsToUnits(credits: number): number {
  if (!Number.isFinite(credits)) {
    throw new RangeError(`credits must be finite, got ${credits}`)
  }
  return Math.round(credits * UNITS_PER_CREDIT)
}

export function unitsToCredits(units: number): number {
  return units / UNITS_PER_CREDIT
}
