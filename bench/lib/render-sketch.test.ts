import { describe, expect, it } from 'vitest'
import { percentile, renderSketchBenchmark } from './render-sketch.ts'

describe('percentile', () => {
  it('uses the nearest rank', () => {
    const sorted = Array.from({ length: 100 }, (_, index) => index + 1)
    expect(percentile(sorted, 0.5)).toBe(50)
    expect(percentile(sorted, 0.99)).toBe(99)
    expect(percentile([7], 0.99)).toBe(7)
    expect(percentile([], 0.5)).toBeNaN()
  })
})

describe('renderSketchBenchmark', () => {
  it('times each render with the injected clock', async () => {
    let tick = 0
    // Each timed run reads the clock twice; the fake clock advances 10 ms per read.
    const now = () => {
      tick += 10
      return tick
    }
    const result = await renderSketchBenchmark({ runs: 4, warmup: 1, width: 64, height: 64, now })
    expect(result).toMatchObject({
      runs: 4,
      width: 64,
      height: 64,
      format: 'png',
      p50Ms: 10,
      p99Ms: 10,
    })
    expect(result.meanBytes).toBeGreaterThan(0)
  })
})
