/** Digits, then upper case, then lower case: the order GitHub's token checksums use. */
export const BASE62_ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz'

/** Like `crypto.randomBytes`: `size` uniformly random bytes. Injected so tests can seed it. */
export type RandomBytes = (size: number) => Uint8Array

/** 248 = 4 × 62: bytes at or above it are dropped so every digit is equally likely. */
const UNBIASED_BYTE_LIMIT = 248

/** `value` in base62, left-padded with '0' to exactly `width` digits. */
export function encodeBase62(value: number, width: number): string {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new RangeError(`base62 encodes non-negative safe integers, got ${value}`)
  }
  let digits = ''
  let rest = value
  do {
    digits = BASE62_ALPHABET[rest % 62] + digits
    rest = Math.floor(rest / 62)
  } while (rest > 0)
  if (digits.length > width) {
    throw new RangeError(`${value} needs more than ${width} base62 digits`)
  }
  return digits.padStart(width, '0')
}

/** `length` uniformly random base62 digits (rejection sampling, no modulo bias). */
export function randomBase62(length: number, randomBytes: RandomBytes): string {
  let out = ''
  while (out.length < length) {
    for (const byte of randomBytes(length - out.length + 8)) {
      if (byte < UNBIASED_BYTE_LIMIT && out.length < length) {
        out += BASE62_ALPHABET[byte % 62]
      }
    }
  }
  return out
}
