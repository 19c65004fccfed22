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
})
