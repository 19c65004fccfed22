import { describe, expect, it } from 'vitest'
import { bufferedRandom, createIdGenerator } from './ids.ts'

describe('ids', () => {
  it('are prefixed, time-ordered and unique', () => {
    const ids = createIdGenerator()
    const made = Array.from({ length: 5000 }, () => ids('ast'))
    expect(new Set(made).size).toBe(made.length)
    expect(made.every((id) => /^ast_[0-9A-HJKMNP-TV-Z]{26}$/.test(id))).toBe(true)
    expect([...made].sort()).toEqual(made)
  })

  it('draw every random value from [0, 1) across batch refills', () => {
    const random = bufferedRandom(16)
    const values = Array.from({ length: 1000 }, () => random())
    expect(values.every((value) => value >= 0 && value < 1)).toBe(true)
    expect(new Set(values).size).toBeGreaterThan(200)
  })
})
