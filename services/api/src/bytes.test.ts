import { describe, expect, it } from 'vitest'
import { concatBytes } from './bytes.ts'

describe('concatBytes', () => {
  it('joins pieces in order into one array of the given length', () => {
    const joined = concatBytes([Uint8Array.of(1, 2), new Uint8Array(0), Uint8Array.of(3)], 3)
    expect([...joined]).toEqual([1, 2, 3])
    expect(joined.byteLength).toBe(3)
  })

  it('answers an empty array for no pieces', () => {
    expect(concatBytes([], 0).byteLength).toBe(0)
  })
})
