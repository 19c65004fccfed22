import { describe, expect, it } from 'vitest'
import { FALLBACK_GLYPH, GLYPH_HEIGHT, glyphFor, hasGlyph } from './font.ts'

const printableAscii = Array.from({ length: 95 }, (_, index) => 32 + index)
const key = (glyph: Uint8Array) => Array.from(glyph).join(',')

describe('bitmap font', () => {
  it('has a glyph for every printable ASCII character and the middle dot', () => {
    for (const codePoint of [...printableAscii, 0xb7]) {
      expect(hasGlyph(codePoint), String.fromCodePoint(codePoint)).toBe(true)
      expect(glyphFor(codePoint)).toHaveLength(GLYPH_HEIGHT)
    }
  })

  it('draws every character differently (no copy-paste slips), and only space is blank', () => {
    const shapes = printableAscii.map((codePoint) => key(glyphFor(codePoint)))
    expect(new Set(shapes).size).toBe(shapes.length)
    const blank = printableAscii.filter((codePoint) =>
      glyphFor(codePoint).every((row) => row === 0),
    )
    expect(blank).toEqual([0x20])
  })

  it('falls back to a box for characters it lacks', () => {
    expect(hasGlyph(0x732b)).toBe(false)
    expect(glyphFor(0x732b)).toBe(FALLBACK_GLYPH)
    expect(printableAscii.map((codePoint) => key(glyphFor(codePoint)))).not.toContain(
      key(FALLBACK_GLYPH),
    )
  })

  it('keeps descenders below the baseline only where letters have them', () => {
    const descending = printableAscii
      .filter((codePoint) => (glyphFor(codePoint)[GLYPH_HEIGHT - 1] ?? 0) !== 0)
      .map((codePoint) => String.fromCodePoint(codePoint))
    expect(descending.join('')).toBe(',_gjpqy')
  })
})
