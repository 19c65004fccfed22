import { describe, expect, it } from 'vitest'
import { hasErrorCode } from './errno.ts'

describe('hasErrorCode', () => {
  it('matches the code of a system error and nothing else', () => {
    expect(hasErrorCode(Object.assign(new Error('x'), { code: 'ENOENT' }), 'ENOENT')).toBe(true)
    expect(hasErrorCode(Object.assign(new Error('x'), { code: 'EEXIST' }), 'ENOENT')).toBe(false)
    expect(hasErrorCode(new Error('x'), 'ENOENT')).toBe(false)
    expect(hasErrorCode(undefined, 'ENOENT')).toBe(false)
  })
})
