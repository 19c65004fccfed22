import { describe, expect, it } from 'vitest'
import { bearerToken } from './bearer.ts'

describe('bearerToken', () => {
  it.each([
    ['Bearer igk_abc', 'igk_abc'],
    ['bearer igk_abc', 'igk_abc'],
    ['BEARER   igk_abc  ', 'igk_abc'],
  ])('reads %j', (header, token) => {
    expect(bearerToken(header)).toBe(token)
  })

  it.each([
    undefined,
    null,
    '',
    'Bearer',
    'Bearer ',
    'Basic aWdrOng=',
    'Bearer a b',
    'Bearerigk_abc',
    'Bearer igk_\u00e9',
  ])('finds no token in %j', (header) => {
    expect(bearerToken(header)).toBeUndefined()
  })
})
