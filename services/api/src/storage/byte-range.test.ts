import { describe, expect, it } from 'vitest'
import type { ByteRange } from './blob-store.ts'
import { resolveRange } from './byte-range.ts'
import { RangeNotSatisfiableError } from './errors.ts'

describe('resolveRange', () => {
  it.each<[ByteRange | undefined, number, { offset: number; length: number }]>([
    [undefined, 10, { offset: 0, length: 10 }],
    [undefined, 0, { offset: 0, length: 0 }],
    [{ offset: 2 }, 10, { offset: 2, length: 8 }],
    [{ offset: 2, length: 3 }, 10, { offset: 2, length: 3 }],
    [{ offset: 8, length: 100 }, 10, { offset: 8, length: 2 }],
    [{ offset: 9, length: 1 }, 10, { offset: 9, length: 1 }],
    [{ suffixLength: 4 }, 10, { offset: 6, length: 4 }],
    [{ suffixLength: 40 }, 10, { offset: 0, length: 10 }],
  ])('%j of %i bytes → %j', (range, size, expected) => {
    expect(resolveRange(range, size)).toEqual(expected)
  })

  it.each<[ByteRange, number]>([
    [{ offset: 10 }, 10],
    [{ offset: 0 }, 0],
    [{ offset: -1 }, 10],
    [{ offset: 1.5 }, 10],
    [{ offset: 0, length: 0 }, 10],
    [{ offset: Number.NaN }, 10],
    [{ suffixLength: 0 }, 10],
    [{ suffixLength: 3 }, 0],
  ])('%j of %i bytes is not satisfiable', (range, size) => {
    expect(() => resolveRange(range, size)).toThrow(RangeNotSatisfiableError)
  })
})
