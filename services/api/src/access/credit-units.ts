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

/** The smallest amount the ledger books: one unit, in credits (0.001). */
export const CREDIT_UNIT = 1 / UNITS_PER_CREDIT

/** Decimal places of a number as written in its shortest form (`0.0049` → 4, `1e-10` → 10). */
function decimalPlaces(value: number): number {
  const [mantissa = '', exponent = '0'] = String(value).toLowerCase().split('e')
  const fraction = mantissa.split('.')[1] ?? ''
  return Math.max(0, fraction.length - Number(exponent))
}

/**
 * Whether the ledger can book `credits` exactly: a finite amount of whole units. Read from the
 * number's decimal form, not by dividing (0.07 / 0.001 is 70.00000000000001 in binary floating
 * point), so every amount written with up to three decimals passes and no other does.
 */
export function isWholeCreditUnits(credits: number): boolean {
  return Number.isFinite(credits) && decimalPlaces(credits) <= Math.log10(UNITS_PER_CREDIT)
}
