import { describe, expect, it } from 'vitest'
import {
  atEnd,
  ByteWalker,
  MAX_READ,
  type Parser,
  read,
  StructureError,
  scan,
  skip,
} from './byte-walker.ts'

const bytes = (...values: number[]) => Uint8Array.from(values)

function walk(parser: Parser, pieces: Uint8Array[]): unknown {
  const walker = new ByteWalker(parser)
  for (const piece of pieces) {
    walker.push(piece)
  }
  try {
    walker.finish()
    return 'done'
  } catch (error) {
    return error
  }
}

describe('ByteWalker', () => {
  it.each([
    ['one piece', [bytes(1, 2, 3, 4, 5, 6)]],
    ['single bytes', [1, 2, 3, 4, 5, 6].map((value) => bytes(value))],
    ['uneven pieces', [bytes(1), bytes(2, 3, 4, 5), bytes(6)]],
    ['empty pieces between', [bytes(), bytes(1, 2), bytes(), bytes(3, 4, 5, 6)]],
  ])('reads, skips and scans the same whatever the pieces: %s', (_label, pieces) => {
    const seen: number[] = []
    const skipped: number[] = []
    function* parser(): Parser {
      seen.push(...(yield* read(2)))
      yield* skip(2, (piece) => skipped.push(...piece))
      // Stops at the byte 6, which stays unread.
      yield* scan((piece) => piece.indexOf(6))
      seen.push(...(yield* read(1)))
      expect(yield* atEnd()).toBe(true)
    }
    expect(walk(parser(), pieces)).toBe('done')
    expect(seen).toEqual([1, 2, 6])
    expect(skipped).toEqual([3, 4])
  })

  it.each([
    ['ends early', [bytes(1, 2, 3)], /ends early/],
    ['bytes after the end', [bytes(1, 2, 3, 4), bytes(5)], /after the end/],
    ['bytes after the end, in the same piece', [bytes(1, 2, 3, 4, 5)], /after the end/],
  ])('refuses an input that %s', (_label, pieces, message) => {
    function* parser(): Parser {
      yield* read(4)
    }
    const error = walk(parser(), pieces)
    expect(error).toBeInstanceOf(StructureError)
    expect((error as Error).message).toMatch(message)
  })

  it('keeps the first fault, from the parser or from its callbacks, and ignores what follows', () => {
    function* parser(): Parser {
      yield* skip(4, (piece) => {
        if (piece.includes(0xee)) {
          throw new StructureError('bad byte')
        }
      })
    }
    expect(walk(parser(), [bytes(1, 0xee), bytes(3, 4), bytes(5, 6, 7)])).toMatchObject({
      message: 'bad byte',
    })
  })

  it('refuses a parser that asks to hold more than a header', () => {
    function* parser(): Parser {
      yield* read(MAX_READ + 1)
    }
    expect(walk(parser(), [bytes(1)])).toMatchObject({ message: /too large/ })
  })

  it('answers atEnd false without consuming when more bytes follow', () => {
    function* parser(): Parser {
      expect(yield* atEnd()).toBe(false)
      expect([...(yield* read(1))]).toEqual([9])
      expect(yield* atEnd()).toBe(true)
    }
    expect(walk(parser(), [bytes(9)])).toBe('done')
  })
})
