import { describe, expect, it } from 'vitest'
import { parseSfList } from './structured-fields.ts'

describe('parseSfList', () => {
  it('parses string members with integer parameters', () => {
    expect(parseSfList('"burst";q=100;w=60, "daily";q=1000;w=86400')).toEqual([
      { value: 'burst', params: { q: 100, w: 60 } },
      { value: 'daily', params: { q: 1000, w: 86400 } },
    ])
    expect(parseSfList('"a\\"b"')).toEqual([{ value: 'a"b', params: {} }])
  })

  it.each(['burst;q=1', '"a";q=1.5', '"a";Q=1', '"a",', '"a" "b"', '"a";q=', '"a'])(
    'refuses %j',
    (input) => {
      expect(() => parseSfList(input)).toThrow(SyntaxError)
    },
  )
})
