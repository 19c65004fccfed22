import { InvalidRequestError } from './app-error.ts'

/**
 * The path (`a.b.0.c`) of the first text in `value` that holds a NUL character, in a string or
 * an object's key; undefined when there is none. PostgreSQL cannot store NUL in text or jsonb,
 * so such input is refused on every backend alike, before anything is done with it.
 */
export function nulTextPath(value: unknown, at: string[] = []): string | undefined {
  if (typeof value === 'string') {
    return value.includes('\u0000') ? at.join('.') : undefined
  }
  if (Array.isArray(value)) {
    for (const [index, item] of value.entries()) {
      const found = nulTextPath(item, [...at, String(index)])
      if (found !== undefined) {
        return found
      }
    }
    return undefined
  }
  if (typeof value === 'object' && value !== null && !(value instanceof Blob)) {
    for (const [key, item] of Object.entries(value)) {
      const path = [...at, key]
      if (key.includes('\u0000')) {
        return path.join('.')
      }
      const found = nulTextPath(item, path)
      if (found !== undefined) {
        return found
      }
    }
  }
  return undefined
}

/** Throws 400 invalid_request naming the field when `value` holds a NUL character. */
export function refuseNulText(value: unknown, at?: string): void {
  const found = nulTextPath(value, at ? [at] : [])
  if (found !== undefined) {
    throw new InvalidRequestError(
      `${found ? `${found}: ` : ''}text may not contain the NUL character (U+0000)`,
      found ? { param: found } : {},
    )
  }
}
