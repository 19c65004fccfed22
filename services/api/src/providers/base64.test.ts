import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  decodeStrictBase64,
  decodeStrictBase64Bytes,
  isStandardBase64Bytes,
  isStrictBase64,
} from './base64.ts'

/** The regex check these functions replace: what they must accept, byte for byte. */
function reference(text: string): Buffer | undefined {
  const padded = text.endsWith('=')
  if (
    text.length === 0 ||
    !/^[A-Za-z0-9+/_-]*={0,2}$/.test(text) ||
    (padded ? text.length % 4 !== 0 : text.length % 4 === 1)
  ) {
    return undefined
  }
  return Buffer.from(text, 'base64')
}

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/-_'.split('')
const character = fc.oneof(
  { weight: 20, arbitrary: fc.constantFrom(...ALPHABET) },
  { weight: 2, arbitrary: fc.constant('=') },
  {
    weight: 1,
    arbitrary: fc.constantFrom(' ', '\n', '\r', '\t', '.', '$', '\0', '"', '\\', '\x7f', 'é', '😀'),
  },
)

describe('decodeStrictBase64 and isStrictBase64', () => {
  it('accept exactly what the regex check accepts, with the same bytes', () => {
    fc.assert(
      fc.property(fc.array(character, { maxLength: 40 }), fc.nat(2), (characters, padding) => {
        const text = characters.join('') + '='.repeat(padding)
        const expected = reference(text)
        const decoded = decodeStrictBase64(text)
        expect(decoded === undefined ? undefined : Buffer.from(decoded)).toEqual(expected)
        expect(isStrictBase64(text)).toBe(expected !== undefined)
        if ([...text].every((character) => character.charCodeAt(0) < 0x80)) {
          expect(decodeStrictBase64Bytes(Buffer.from(text, 'latin1'))).toEqual(decoded)
        }
      }),
      { numRuns: 20_000 },
    )
  })

  it('decode what Buffer encodes, base64 and base64url', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: 6000 }), fc.boolean(), (bytes, url) => {
        const text = Buffer.from(bytes).toString(url ? 'base64url' : 'base64')
        expect(decodeStrictBase64(text)).toEqual(bytes)
        expect(decodeStrictBase64Bytes(Buffer.from(text, 'latin1'))).toEqual(bytes)
        expect(isStrictBase64(text)).toBe(true)
        expect(isStandardBase64Bytes(Buffer.from(text, 'latin1'))).toBe(
          !/[-_]/.test(text) && text.length % 4 === 0,
        )
      }),
      { numRuns: 500 },
    )
  })

  it('refuse a long text with one stray character, wherever it is', () => {
    const bytes = new Uint8Array(300_000).map((_, index) => (index * 7919) % 251)
    const text = Buffer.from(bytes).toString('base64')
    expect(decodeStrictBase64Bytes(Buffer.from(text, 'latin1'))).toEqual(bytes)
    // Around the 32 KiB pieces the bytes are decoded in, and in the last one.
    for (const at of [
      0,
      32_767,
      32_768,
      32_769,
      65_536,
      150_001,
      text.length - 3,
      text.length - 1,
    ]) {
      // (An `=` for the last character would be padding, which is fine.)
      for (const stray of at === text.length - 1 ? ['$', ' ', '\n'] : ['$', ' ', '=', '\n']) {
        const spoiled = `${text.slice(0, at)}${stray}${text.slice(at + 1)}`
        expect(decodeStrictBase64(spoiled)).toBeUndefined()
        expect(isStrictBase64(spoiled)).toBe(false)
        expect(decodeStrictBase64Bytes(Buffer.from(spoiled, 'latin1'))).toBeUndefined()
      }
    }
  })
})
