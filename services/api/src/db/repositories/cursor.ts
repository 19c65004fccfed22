/** Opaque keyset cursors: the last id of a page, base64url-encoded so clients don't build them. */
export function encodeCursor(lastId: string): string {
  return Buffer.from(JSON.stringify({ id: lastId })).toString('base64url')
}

export function decodeCursor(cursor: string): string | undefined {
  try {
    const parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as { id?: unknown }
    return typeof parsed.id === 'string' && /^[a-z]+_[0-9A-Z]{26}$/.test(parsed.id)
      ? parsed.id
      : undefined
  } catch {
    return undefined
  }
}

/**
 * An ISO instant in the form timestamps are stored in (`toISOString`, milliseconds, `Z`), so
 * comparing the strings compares the instants: `…:20Z` and `…:20.000Z` are the same moment.
 */
export function storedInstant(instant: string): string {
  return new Date(instant).toISOString()
}
