import { describe, expect, it } from 'vitest'
import { manualClock } from './manual-clock.ts'

describe('manualClock', () => {
  it('moves only when told to', () => {
    const clock = manualClock(1_000)
    expect(clock.now().getTime()).toBe(1_000)
    clock.advance(250)
    expect(clock.ms()).toBe(1_250)
    clock.set(5_000)
    expect(clock.now().getTime()).toBe(5_000)
  })
})
