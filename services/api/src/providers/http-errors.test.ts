import { describe, expect, it } from 'vitest'
import { failureFromStatus } from './http-errors.ts'

describe('failureFromStatus', () => {
  it.each([
    [400, 'rejected'],
    [401, 'auth'],
    [402, 'quota'],
    [403, 'auth'],
    [404, 'rejected'],
    [408, 'unavailable'],
    [409, 'rejected'],
    [413, 'rejected'],
    [422, 'rejected'],
    [429, 'rate_limited'],
    [500, 'ambiguous'],
    [501, 'ambiguous'],
    [502, 'unavailable'],
    [503, 'unavailable'],
    [504, 'unavailable'],
    [524, 'ambiguous'],
  ])('%i is %s', (status, kind) => {
    expect(failureFromStatus('openai', status, { message: 'x' })).toMatchObject({ kind, status })
  })
})
