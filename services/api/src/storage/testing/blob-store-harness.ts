import { createHash } from 'node:crypto'
import type { BlobStore, VerifiedBlob } from '../blob-store.ts'

/** The grace period the shared GC cases run with; `elapse` lets this much time pass. */
export const GC_GRACE_MS = 60 * 60 * 1000

/** One backend under the shared suite, fresh for each case. */
export type BlobStoreHarness = {
  store: BlobStore
  /** The store's streamThresholdBytes: larger blobs come back as streams. */
  streamThresholdBytes: number
  /** Every file or object the store holds, as names relative to its root: blobs, temp, quarantine. */
  storedNames(): Promise<string[]>
  /** The storedNames entry of a published blob. */
  blobName(sha256: string): string
  /** The storedNames entries that are quarantined copies. */
  quarantinedNames(): Promise<string[]>
  /** Reads a quarantined copy; fails unless `location` is inside the store's quarantine. */
  readQuarantined(location: string): Promise<Uint8Array>
  /** Replaces a stored blob's bytes behind the store's back, as corruption or a stray writer would. */
  overwrite(sha256: string, bytes: Uint8Array): Promise<void>
  /**
   * Lets time pass: afterwards a GC with GC_GRACE_MS (on the store's clock) finds everything
   * stored or refreshed before the call expired, and everything stored or refreshed after it fresh.
   */
  elapse(): Promise<void>
  dispose(): Promise<void>
}

export type MakeHarness = () => Promise<BlobStoreHarness>

export const text = (value: string) => new TextEncoder().encode(value)
export const sha256Of = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex')
export const patterned = (size: number) =>
  new Uint8Array(size).map((_, index) => (index * 31) % 256)

export async function* chunks(...parts: Uint8Array[]) {
  for (const part of parts) {
    yield part
  }
}

export async function contentOf(blob: VerifiedBlob): Promise<Uint8Array> {
  if (blob.kind === 'bytes') {
    return new Uint8Array(blob.bytes)
  }
  return new Uint8Array(await new Response(blob.stream).arrayBuffer())
}

/** The same bytes with the one at `position` flipped. */
export function flipped(bytes: Uint8Array, position: number): Uint8Array {
  const copy = bytes.slice()
  copy[position] = (copy[position] ?? 0) ^ 0xff
  return copy
}
