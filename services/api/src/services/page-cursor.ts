import { InvalidRequestError } from '../errors/app-error.ts'

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

/** The id a `cursor` query parameter points after: 400 for a cursor this server did not issue. */
export function pageAfter(cursor: string | undefined): string | undefined {
  if (cursor === undefined) {
    return undefined
  }
  const id = decodeCursor(cursor)
  if (id === undefined) {
    throw new InvalidRequestError('cursor is not one this server issued', { param: 'cursor' })
  }
  return id
}

/** The page of `rows` (fetched with one row more than `limit`) and the cursor to the next one. */
export function keysetPage<T extends { id: string }>(rows: T[], limit: number) {
  const hasMore = rows.length > limit
  const data = hasMore ? rows.slice(0, limit) : rows
  const last = data.at(-1)
  return { data, hasMore, nextCursor: hasMore && last ? encodeCursor(last.id) : null }
}
