import { describe, expect, it } from 'vitest'
import { seededRandom } from './seeded-random.ts'

describe('seededRandom', () => {
  it('repeats the same sequence for the same seed and differs across seeds', () => {
    const a = seededRandom(7)
    const b = seededRandom(7)
    const c = seededRandom(8)
    const first = Array.from({ length: 5 }, a)
    expect(Array.from({ length: 5 }, b)).toEqual(first)
    expect(Array.from({ length: 5 }, c)).not.toEqual(first)
  })

  it('stays in [0, 1) and fills ten equal bins evenly', () => {
    const random = seededRandom(42)
    const samples = Array.from({ length: 100_000 }, random)
    expect(samples.filter((x) => !(x >= 0 && x < 1))).toEqual([])
    const bins = new Array<number>(10).fill(0)
    for (const x of samples) {
      const bin = Math.floor(x * 10)
      bins[bin] = (bins[bin] ?? 0) + 1
    }
    for (const count of bins) {
      expect(Math.abs(count - 10_000)).toBeLessThan(500)
    }
  })
})
