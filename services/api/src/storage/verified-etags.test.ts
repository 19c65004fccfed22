import { describe, expect, it } from 'vitest'
import { createVerifiedEtags } from './verified-etags.ts'

describe('createVerifiedEtags', () => {
  it('remembers a verified version until forgotten', () => {
    const verified = createVerifiedEtags(10)
    verified.set('a', '"e1"', 5)
    expect(verified.get('a')).toEqual({ etag: '"e1"', sizeBytes: 5 })
    verified.forget('a')
    expect(verified.get('a')).toBeUndefined()
  })

  it('drops the least recently read entry first', () => {
    const verified = createVerifiedEtags(2)
    verified.set('a', '"a"', 1)
    verified.set('b', '"b"', 1)
    verified.get('a')
    verified.set('c', '"c"', 1)
    expect(verified.get('b')).toBeUndefined()
    expect(verified.get('a')).toBeDefined()
    expect(verified.get('c')).toBeDefined()
  })

  it('keeps nothing when disabled', () => {
    const verified = createVerifiedEtags(0)
    verified.set('a', '"a"', 1)
    expect(verified.get('a')).toBeUndefined()
  })
})
