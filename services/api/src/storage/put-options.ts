import { createHash } from 'node:crypto'
import { assertSha256Hex } from './blob-hash.ts'
import type { PutOptions } from './blob-store.ts'
import { BlobTooLargeError, DigestMismatchError } from './errors.ts'

/** The checks every store makes on put options before it reads a byte or touches storage. */
export function checkPutOptions({ maxBytes, expectedSha256 }: PutOptions): void {
  if (expectedSha256 !== undefined) {
    assertSha256Hex(expectedSha256)
  }
  if (!Number.isSafeInteger(maxBytes) || maxBytes < 0) {
    throw new RangeError('maxBytes must be a non-negative integer')
  }
}

/**
 * For bytes already in memory: the put options checked, the size held to `maxBytes`, and the
 * digest computed and held to `expectedSha256`, all before the store is touched.
 */
export function checkedDigestOf(bytes: Uint8Array, options: PutOptions): string {
  checkPutOptions(options)
  if (bytes.byteLength > options.maxBytes) {
    throw new BlobTooLargeError(options.maxBytes)
  }
  const sha256 = createHash('sha256').update(bytes).digest('hex')
  if (options.expectedSha256 !== undefined && sha256 !== options.expectedSha256) {
    throw new DigestMismatchError(options.expectedSha256, sha256)
  }
  return sha256
}
