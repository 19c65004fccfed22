/** Lets go of one pin; again is a no-op. */
export type ReleasePin = () => Promise<void>

/**
 * Digests an in-progress request is about to reference: GC treats a pinned digest as
 * referenced, closing the window between "the blob is stored" and "the row that names it is
 * committed". The port has an in-process adapter (memory-blob-pins.ts, for one process) and a
 * database adapter (pins shared by every instance, each with an expiry so a crashed instance's
 * pins do not hold a blob forever).
 */
export type BlobPins = {
  pin(sha256: string): Promise<ReleasePin>
  /** Live pins on the digest, from every instance that shares them. */
  count(sha256: string): Promise<number>
}
