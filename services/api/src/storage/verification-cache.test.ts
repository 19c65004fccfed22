import type { BigIntStats } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { createVerificationCache } from './verification-cache.ts'

const stats = (overrides: Partial<Record<'ino' | 'size' | 'mtimeNs' | 'ctimeNs', bigint>> = {}) =>
  ({ dev: 1n, ino: 10n, size: 100n, mtimeNs: 5n, ctimeNs: 6n, ...overrides }) as BigIntStats

describe('createVerificationCache', () => {
  it('recognises the same file and nothing that changed', () => {
    const cache = createVerificationCache(10)
    cache.markVerified('a', stats())
    expect(cache.isVerified('a', stats())).toBe(true)
    expect(cache.isVerified('a', stats({ ino: 11n }))).toBe(false)
    expect(cache.isVerified('a', stats({ size: 101n }))).toBe(false)
    expect(cache.isVerified('a', stats({ mtimeNs: 7n }))).toBe(false)
    expect(cache.isVerified('a', stats({ ctimeNs: 7n }))).toBe(false)
    expect(cache.isVerified('b', stats())).toBe(false)
  })

  it('evicts the least recently read entry beyond its bound', () => {
    const cache = createVerificationCache(2)
    cache.markVerified('a', stats())
    cache.markVerified('b', stats())
    expect(cache.isVerified('a', stats())).toBe(true)
    cache.markVerified('c', stats())
    expect(cache.isVerified('a', stats())).toBe(true)
    expect(cache.isVerified('b', stats())).toBe(false)
    expect(cache.isVerified('c', stats())).toBe(true)
  })

  it('forgets on request and caches nothing when disabled', () => {
    const cache = createVerificationCache(2)
    cache.markVerified('a', stats())
    cache.forget('a')
    expect(cache.isVerified('a', stats())).toBe(false)
    const disabled = createVerificationCache(0)
    disabled.markVerified('a', stats())
    expect(disabled.isVerified('a', stats())).toBe(false)
  })

  it('keeps content only for the stamps it was verified under', () => {
    const cache = createVerificationCache(10, 16 * 100)
    const content = new Uint8Array(100).fill(7)
    cache.markVerified('a', stats(), content)
    expect(cache.holdsContent('a')).toBe(true)
    expect(cache.contentIfUnchanged('a', stats())).toBe(content)
    expect(cache.contentIfUnchanged('a', stats({ ctimeNs: 7n }))).toBeUndefined()
    expect(cache.contentIfUnchanged('b', stats())).toBeUndefined()
    // Verified again under other stamps without bytes: the old bytes no longer count.
    cache.markVerified('a', stats({ ino: 11n }))
    expect(cache.holdsContent('a')).toBe(false)
    cache.markVerified('a', stats(), content)
    cache.forget('a')
    expect(cache.holdsContent('a')).toBe(false)
    expect(cache.isVerified('a', stats())).toBe(false)
  })

  it('bounds the bytes it keeps, dropping the least recently read first', () => {
    const cache = createVerificationCache(100, 16 * 100)
    const blob = (fill: number, size = 100) => new Uint8Array(size).fill(fill)
    cache.markVerified('too big', stats(), blob(1, 101))
    expect(cache.holdsContent('too big')).toBe(false)
    expect(cache.isVerified('too big', stats())).toBe(true)
    for (let index = 0; index < 16; index++) {
      cache.markVerified(`b${index}`, stats(), blob(index))
    }
    expect(cache.contentIfUnchanged('b0', stats())?.[0]).toBe(0)
    cache.markVerified('b16', stats(), blob(16))
    expect(cache.holdsContent('b0')).toBe(true)
    expect(cache.holdsContent('b1')).toBe(false)
    expect(cache.isVerified('b1', stats())).toBe(true)
    expect(createVerificationCache(10).holdsContent('b0')).toBe(false)
  })

  it('drops kept bytes with the entry evicted beyond its bound', () => {
    const cache = createVerificationCache(1, 16 * 100)
    cache.markVerified('a', stats(), new Uint8Array(10))
    cache.markVerified('b', stats(), new Uint8Array(10))
    expect(cache.holdsContent('a')).toBe(false)
    expect(cache.holdsContent('b')).toBe(true)
  })
})
