import { describe, expect, it } from 'vitest'
import { createSketchRandom, hslToRgb } from './fingerprint.ts'

describe('createSketchRandom', () => {
  it('repeats its sequence for the same prompt, seed and variant', () => {
    const draw = () => {
      const random = createSketchRandom('a cat', 1, 0)
      return Array.from({ length: 8 }, () => random.next())
    }
    expect(draw()).toEqual(draw())
  })

  it('changes with each input', () => {
    const digests = [
      createSketchRandom('a cat', 1, 0),
      createSketchRandom('a dog', 1, 0),
      createSketchRandom('a cat', 2, 0),
      createSketchRandom('a cat', 1, 1),
    ].map((random) => random.digest)
    expect(new Set(digests).size).toBe(4)
  })

  it('keeps numbers in range', () => {
    const random = createSketchRandom('range', 0, 0)
    for (let index = 0; index < 1000; index++) {
      const value = random.next()
      expect(value).toBeGreaterThanOrEqual(0)
      expect(value).toBeLessThan(1)
      const int = random.int(3, 5)
      expect([3, 4, 5]).toContain(int)
    }
  })
})

describe('hslToRgb', () => {
  it.each([
    [0, 1, 0.5, [255, 0, 0]],
    [1 / 3, 1, 0.5, [0, 255, 0]],
    [2 / 3, 1, 0.5, [0, 0, 255]],
    [0, 0, 1, [255, 255, 255]],
    [0.5, 0, 0, [0, 0, 0]],
  ])('hsl(%d, %d, %d) → %j', (hue, saturation, lightness, expected) => {
    expect(hslToRgb(hue, saturation, lightness)).toEqual(expected)
  })
})
