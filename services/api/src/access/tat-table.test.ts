import { describe, expect, it } from 'vitest'
import { createTatTable } from './tat-table.ts'

describe('createTatTable', () => {
  it('answers 0 for unknown buckets and stores future TATs', () => {
    const table = createTatTable()
    expect(table.get('a')).toBe(0)
    table.set('a', 2000, 1000)
    expect(table.get('a')).toBe(2000)
    expect(table.size).toBe(1)
  })

  it('does not keep a TAT that is already in the past', () => {
    const table = createTatTable()
    table.set('a', 2000, 1000)
    table.set('a', 1000, 1000)
    expect(table.size).toBe(0)
  })

  it('sweeps full buckets and keeps live ones', () => {
    const table = createTatTable()
    table.set('old', 1500, 1000)
    table.set('live', 5000, 1000)
    expect(table.sweep(2000)).toBe(1)
    expect(table.get('old')).toBe(0)
    expect(table.get('live')).toBe(5000)
  })

  it('stays bounded while buckets come and go (100,000 one-off callers)', () => {
    const table = createTatTable({ minSweepSize: 64 })
    let now = 0
    let largest = 0
    for (let caller = 0; caller < 100_000; caller += 1) {
      now += 10
      // Each caller's bucket is full again 500 ms later: about 50 are live at any time.
      table.set(`caller-${caller}`, now + 500, now)
      largest = Math.max(largest, table.size)
    }
    expect(largest).toBeLessThanOrEqual(128)
  })

  it('grows with live buckets without sweeping on every write', () => {
    const table = createTatTable({ minSweepSize: 4 })
    for (let caller = 0; caller < 1000; caller += 1) {
      table.set(`caller-${caller}`, 1_000_000, 0)
    }
    expect(table.size).toBe(1000)
    expect(table.sweep(1_000_000)).toBe(1000)
  })
})
