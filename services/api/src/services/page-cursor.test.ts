import { describe, expect, it } from 'vitest'
import { InvalidRequestError } from '../errors/app-error.ts'
import { decodeCursor, encodeCursor, keysetPage, pageAfter } from './page-cursor.ts'

const ID = 'ast_01J9Z7Q8R4M2ABCDEFGHJKMNPQ'

describe('page cursors', () => {
  it('round-trips an id and refuses anything it did not issue', () => {
    expect(decodeCursor(encodeCursor(ID))).toBe(ID)
    expect(decodeCursor('not-a-cursor')).toBeUndefined()
    expect(decodeCursor(Buffer.from('{"id":"x"}').toString('base64url'))).toBeUndefined()
  })

  it('turns a foreign cursor into a 400 on `cursor`, and no cursor into the first page', () => {
    expect(pageAfter(undefined)).toBeUndefined()
    expect(pageAfter(encodeCursor(ID))).toBe(ID)
    expect(() => pageAfter('garbage')).toThrow(InvalidRequestError)
    try {
      pageAfter('garbage')
    } catch (err) {
      expect((err as InvalidRequestError).param).toBe('cursor')
    }
  })

  it('cuts the extra row and points the next cursor at the last row kept', () => {
    const rows = [{ id: 'a' }, { id: 'b' }, { id: 'c' }]
    expect(keysetPage(rows, 2)).toEqual({
      data: [{ id: 'a' }, { id: 'b' }],
      hasMore: true,
      nextCursor: encodeCursor('b'),
    })
    expect(keysetPage(rows, 3)).toEqual({ data: rows, hasMore: false, nextCursor: null })
  })
})
