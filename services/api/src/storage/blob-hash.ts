import { InvalidHashError } from './errors.ts'

const SHA256_HEX = /^[0-9a-f]{64}$/

/** sha256 of zero bytes: a valid blob like any other. */
export const EMPTY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855'

export function isSha256Hex(value: unknown): value is string {
  return typeof value === 'string' && SHA256_HEX.test(value)
}

/**
 * The gate in front of every path built from a digest: only `[0-9a-f]{64}` can reach path.join,
 * so `../`, `%2e%2e`, separators, NUL and uppercase never touch the file system.
 */
export function assertSha256Hex(value: unknown): asserts value is string {
  if (!isSha256Hex(value)) {
    throw new InvalidHashError()
  }
}
