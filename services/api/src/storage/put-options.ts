import { assertSha256Hex } from './blob-hash.ts'
import type { PutOptions } from './blob-store.ts'

/** The checks every store makes on put options before it reads a byte or touches storage. */
export function checkPutOptions({ maxBytes, expectedSha256 }: PutOptions): void {
  if (expectedSha256 !== undefined) {
    assertSha256Hex(expectedSha256)
  }
  if (!Number.isSafeInteger(maxBytes) || maxBytes < 0) {
    throw new RangeError('maxBytes must be a non-negative integer')
  }
}
