/** Lets go of one pin; again is a no-op. */
export type ReleasePin = () => Promise<void>

/**
 * Digests an in-progress request is about to reference: GC treats a pinned digest as
 * referenced, closing the window between "the blob is stored" and "the row that names it is
 * committed". The port has an in-process adapter (memory-blob-pins.ts, for one process) and a
 * database adapter (db/pg-repositories/blob-pins.ts: pins shared by every instance, each with an
 * expiry so a crashed instance's pins do not hold a blob forever).
 */
export type BlobPins = {
  pin(sha256: string): Promise<ReleasePin>
  /** Live pins on the digest, from every instance that shares them. */
  count(sha256: string): Promise<number>
  /**
   * Runs `work` (the last look at an unreferenced blob and its delete) only while no live pin
   * holds the digest, and keeps new pins on it waiting until `work` is done: a request that
   * pins meanwhile then finds the blob gone and stores it again, instead of finding it just
   * before it goes. Answers undefined, without running `work`, when the digest is pinned.
   */
  unlessPinned<T>(sha256: string, work: () => Promise<T>): Promise<T | undefined>
  /** Removes pins past their expiry (their holder crashed); answers how many. */
  purgeExpired(): Promise<number>
}
