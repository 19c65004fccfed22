import type { ByteRange } from './blob-store.ts'
import { RangeNotSatisfiableError } from './errors.ts'

export type ResolvedRange = { offset: number; length: number }

const isWhole = (value: number) => Number.isSafeInteger(value)

/**
 * Turns a requested range into offset + length inside a blob of `sizeBytes`, with HTTP's rules:
 * a range may run past the end (it is clipped), but must start inside the blob and be non-empty.
 */
export function resolveRange(range: ByteRange | undefined, sizeBytes: number): ResolvedRange {
  if (range === undefined) {
    return { offset: 0, length: sizeBytes }
  }
  if ('suffixLength' in range) {
    if (!isWhole(range.suffixLength) || range.suffixLength < 1 || sizeBytes === 0) {
      throw new RangeNotSatisfiableError(sizeBytes)
    }
    const length = Math.min(range.suffixLength, sizeBytes)
    return { offset: sizeBytes - length, length }
  }
  const { offset } = range
  if (!isWhole(offset) || offset < 0 || offset >= sizeBytes) {
    throw new RangeNotSatisfiableError(sizeBytes)
  }
  const available = sizeBytes - offset
  if (range.length === undefined) {
    return { offset, length: available }
  }
  if (!isWhole(range.length) || range.length < 1) {
    throw new RangeNotSatisfiableError(sizeBytes)
  }
  return { offset, length: Math.min(range.length, available) }
}
