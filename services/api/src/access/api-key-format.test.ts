import { randomBytes } from 'node:crypto'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { seededRandom } from '../providers/resilience/testing/seeded-random.ts'
import {
  API_KEY_LENGTH,
  API_KEY_PATTERN,
  apiKeyChecksum,
  digestsEqual,
  generateApiKey,
  hashApiKey,
  hasValidChecksum,
} from './api-key-format.ts'
import { BASE62_ALPHABET } from './base62.ts'

/** Deterministic bytes for reproducible keys. */
function seededBytes(seed: number) {
  const random = seededRandom(seed)
  return (size: number) => Uint8Array.from({ length: size }, () => Math.floor(random() * 256))
}

/** Every string that differs from `key` in exactly one position (all printable ASCII). */
function* singleCharacterChanges(key: string) {
  for (let index = 0; index < key.length; index += 1) {
    for (let code = 0x20; code <= 0x7e; code += 1) {
      const replacement = String.fromCharCode(code)
      if (replacement !== key[index]) {
        yield key.slice(0, index) + replacement + key.slice(index + 1)
      }
    }
  }
}

describe('generateApiKey', () => {
  it('makes igk_ + 43 random base62 digits + a 6-digit checksum', () => {
    const generated = generateApiKey(randomBytes)
    expect(generated.key).toMatch(/^igk_[0-9A-Za-z]{43}[0-9A-Za-z]{6}$/)
    expect(generated.key).toHaveLength(API_KEY_LENGTH)
    expect(generated.key).toMatch(API_KEY_PATTERN)
    expect(hasValidChecksum(generated.key)).toBe(true)
    expect(generated.key.slice(-6)).toBe(apiKeyChecksum(generated.key.slice(0, -6)))
  })

  it('answers the hash, a display prefix and the last four characters, never more', () => {
    const generated = generateApiKey(seededBytes(7))
    expect(generated.keyHash).toBe(hashApiKey(generated.key))
    expect(generated.keyHash).toMatch(/^[0-9a-f]{64}$/)
    expect(generated.displayPrefix).toBe(generated.key.slice(0, 12))
    expect(generated.displayPrefix.startsWith('igk_')).toBe(true)
    expect(generated.last4).toBe(generated.key.slice(-4))
  })

  it('is deterministic for a given byte source and distinct across draws', () => {
    expect(generateApiKey(seededBytes(1)).key).toBe(generateApiKey(seededBytes(1)).key)
    const keys = new Set(Array.from({ length: 1000 }, () => generateApiKey(randomBytes).key))
    expect(keys.size).toBe(1000)
  })
})

describe('hasValidChecksum', () => {
  it('detects every single-character change of a key (exhaustive over one key)', () => {
    const { key } = generateApiKey(seededBytes(42))
    let variants = 0
    for (const variant of singleCharacterChanges(key)) {
      variants += 1
      expect(hasValidChecksum(variant), variant).toBe(false)
    }
    expect(variants).toBe(key.length * 94)
  })

  it('detects every single-character change (property, random keys and positions)', () => {
    fc.assert(
      fc.property(
        fc.integer(),
        fc.nat({ max: API_KEY_LENGTH - 1 }),
        fc.constantFrom(...BASE62_ALPHABET, '_', '-', ' ', '.', '/'),
        (seed, index, replacement) => {
          const { key } = generateApiKey(seededBytes(seed))
          fc.pre(key[index] !== replacement)
          const changed = key.slice(0, index) + replacement + key.slice(index + 1)
          expect(hasValidChecksum(changed)).toBe(false)
        },
      ),
      { numRuns: 5000 },
    )
  })

  it('refuses dropped, added and swapped-in characters', () => {
    const { key } = generateApiKey(seededBytes(3))
    expect(hasValidChecksum(key.slice(1))).toBe(false)
    expect(hasValidChecksum(key.slice(0, -1))).toBe(false)
    expect(hasValidChecksum(`${key}0`)).toBe(false)
    expect(hasValidChecksum(` ${key}`)).toBe(false)
    expect(hasValidChecksum(key.replace('igk_', 'igx_'))).toBe(false)
  })

  it('refuses 1,000 random wrong keys of the right shape', () => {
    const random = seededRandom(2024)
    let refused = 0
    for (let index = 0; index < 1000; index += 1) {
      const digits = Array.from(
        { length: 49 },
        () => BASE62_ALPHABET[Math.floor(random() * 62)],
      ).join('')
      const guess = `igk_${digits}`
      expect(guess).toMatch(API_KEY_PATTERN)
      if (!hasValidChecksum(guess)) {
        refused += 1
      }
    }
    // A guess passes with probability 2^-32, so all 1,000 fail.
    expect(refused).toBe(1000)
  })

  it('refuses other shapes without throwing', () => {
    for (const value of ['', 'igk_', 'Bearer igk_x', 'sk-proj-abc', 'igk_é'.padEnd(53, 'a')]) {
      expect(hasValidChecksum(value)).toBe(false)
    }
  })
})

describe('digestsEqual', () => {
  it('compares equal-length digests and refuses different lengths', () => {
    const a = hashApiKey('a')
    expect(digestsEqual(a, hashApiKey('a'))).toBe(true)
    expect(digestsEqual(a, hashApiKey('b'))).toBe(false)
    expect(digestsEqual(a, a.slice(1))).toBe(false)
    expect(digestsEqual('', '')).toBe(true)
  })
})
