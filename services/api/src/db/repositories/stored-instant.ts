/**
 * An ISO instant in the form timestamps are stored in (`toISOString`, milliseconds, `Z`), so
 * comparing the strings compares the instants: `…:20Z` and `…:20.000Z` are the same moment.
 */
export function storedInstant(instant: string): string {
  return new Date(instant).toISOString()
}
