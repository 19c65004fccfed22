import { hash, timingSafeEqual } from 'node:crypto'
import { crc32 } from 'node:zlib'
import { encodeBase62, type RandomBytes, randomBase62 } from './base62.ts'

/**
 * API keys follow GitHub's token design ("Behind GitHub's new authentication token formats"):
 * a type prefix that secret scanners can match, a random body, and a CRC32 checksum of the
 * prefix and body in the last six characters, so a mistyped or made-up key is refused offline,
 * before any database read.
 */
export const API_KEY_PREFIX = 'igk_'
/** 43 base62 digits carry 43 × log2(62) ≈ 256.03 bits. */
export const API_KEY_RANDOM_LENGTH = 43
/** 62^6 ≈ 5.7 × 10^10 covers every 32-bit CRC. */
export const API_KEY_CHECKSUM_LENGTH = 6
export const API_KEY_LENGTH =
  API_KEY_PREFIX.length + API_KEY_RANDOM_LENGTH + API_KEY_CHECKSUM_LENGTH
export const API_KEY_PATTERN = /^igk_[0-9A-Za-z]{49}$/
/** How much of a key the UI may show: the prefix and the first eight random digits. */
const DISPLAY_PREFIX_LENGTH = API_KEY_PREFIX.length + 8

export type GeneratedApiKey = {
  /** Shown to its owner once, never stored. */
  key: string
  /** sha256 hex of the whole key: the only form the database keeps. */
  keyHash: string
  displayPrefix: string
  last4: string
}

/** The six-digit checksum of `igk_<random>`. */
export function apiKeyChecksum(prefixAndRandom: string): string {
  return encodeBase62(crc32(prefixAndRandom), API_KEY_CHECKSUM_LENGTH)
}

export function generateApiKey(randomBytes: RandomBytes): GeneratedApiKey {
  const body = API_KEY_PREFIX + randomBase62(API_KEY_RANDOM_LENGTH, randomBytes)
  return describeApiKey(body + apiKeyChecksum(body))
}

/** What is stored and shown of a key, e.g. one an operator chose (IMAGEGATE_BOOTSTRAP_ADMIN_KEY). */
export function describeApiKey(key: string): GeneratedApiKey {
  return {
    key,
    keyHash: hashApiKey(key),
    displayPrefix: key.slice(0, DISPLAY_PREFIX_LENGTH),
    last4: key.slice(-4),
  }
}

/**
 * Pure and cheap: the format and the checksum, nothing else. A key that fails here cannot be one
 * imagegate issued, so the caller answers 401 without touching the database.
 */
export function hasValidChecksum(key: string): boolean {
  if (!API_KEY_PATTERN.test(key)) {
    return false
  }
  const checksumAt = key.length - API_KEY_CHECKSUM_LENGTH
  return apiKeyChecksum(key.slice(0, checksumAt)) === key.slice(checksumAt)
}

/**
 * sha256 hex. A fast hash is right here: keys carry 256 random bits, so there is nothing to
 * brute-force, and a slow KDF would only add latency to every request.
 * The one-shot `crypto.hash` builds no Hash object: it runs on every authenticated request.
 */
export function hashApiKey(key: string): string {
  return hash('sha256', key, 'hex')
}

/**
 * Constant-time equality of two digests of the same algorithm. Comparing digests rather than
 * raw keys keeps the lengths equal, so the early length check leaks nothing.
 */
export function digestsEqual(a: string, b: string): boolean {
  if (a.length !== b.length) {
    return false
  }
  return timingSafeEqual(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'))
}
