import type { ByteSource } from './byte-source.ts'

export type { ByteSource } from './byte-source.ts'

export type PutOptions = {
  /** Reading stops, and the put fails with BlobTooLargeError, once the source exceeds this. */
  maxBytes: number
  /** The client's declared digest; a different actual digest fails with DigestMismatchError. */
  expectedSha256?: string
  /**
   * Awaited once the bytes are hashed and checked, before the blob is looked for, written
   * under its name or refreshed: a caller pins the digest here, so no GC can take the blob between
   * its write and the row that will name it. A rejection fails the put with nothing written.
   */
  beforeWrite?: (sha256: string) => Promise<void>
}

export type PutResult = {
  sha256: string
  sizeBytes: number
  /** Where the blob lives in this store (a file path for the file-system store). */
  path: string
  /** false when the bytes were already stored: nothing was written, the blob was refreshed. */
  created: boolean
  /** The first bytes written (up to 4 KiB), for type sniffing without a second read. */
  head: Uint8Array
  /** The last bytes written (up to 4 KiB), for finding markup appended to an image. */
  tail: Uint8Array
  /**
   * True when the put wrote over other bytes found under the key (of the wrong size, so
   * corrupt): on a store shared by instances, a quarantine of those on another instance may
   * delete these, so a caller that had not pinned the digest before the put looks again once it
   * has. Only a store shared by instances (S3) reports it.
   */
  replaced?: boolean
}

/** A part of a blob: from `offset`, `length` bytes (to the end when omitted), or the last N. */
export type ByteRange = { offset: number; length?: number } | { suffixLength: number }

/**
 * Runs the last check and the delete of a blob's object (BlobPins.unlessPinned) only while no
 * request on any instance is about to use the digest, keeping new ones waiting until `work` is
 * done; answers undefined, without running `work`, when the digest is in use. It is entered
 * before the store's own lock on the digest, which `work` takes.
 */
export type GuardDelete = <T>(sha256: string, work: () => Promise<T>) => Promise<T | undefined>

/** The guard of a store no other instance shares: `work` runs as it is. */
export const runUnguarded: GuardDelete = (_sha256, work) => work()

export type OpenOptions = {
  range?: ByteRange
  /** Hash the content even if this file was verified before (for a scrubber). */
  rehash?: boolean
  /**
   * Wraps the quarantine of content found corrupt, whose move out of the store deletes the
   * object under the key (see QuarantineOptions). Default: it runs as it is.
   */
  guardDelete?: GuardDelete
}

export type QuarantineOptions = {
  /**
   * Wraps the move, on a store shared by instances (S3), where it ends with a delete by key:
   * a put on another instance must not lose good bytes it stored under the key meanwhile. The
   * file-system store, on a disk one process owns, moves the file by rename under the digest's
   * lock and runs no guard. Default: the move runs as it is.
   */
  guardDelete?: GuardDelete
}

type VerifiedBlobFacts = {
  sha256: string
  /** Size of the whole blob. */
  sizeBytes: number
  /** The part returned: its first byte's offset in the blob and its length. */
  offset: number
  length: number
}

/**
 * Content that was proven to hash to its name before it was returned. Small blobs come back as
 * bytes; large ones as a stream (the whole blob was hashed before the stream was handed out).
 */
export type VerifiedBlob = VerifiedBlobFacts &
  ({ kind: 'bytes'; bytes: Uint8Array } | { kind: 'stream'; stream: ReadableStream<Uint8Array> })

export type BlobStat = {
  sha256: string
  sizeBytes: number
  /** Last write or refresh; GC keeps blobs younger than its grace period. */
  modifiedAt: Date
  path: string
}

export type GarbageCollectionOptions = {
  /** True when any row still points at the blob. */
  isReferenced(sha256: string): boolean | Promise<boolean>
  /** Blobs written or refreshed more recently than this are kept, referenced or not. */
  graceMs: number
  /** Defaults to the store's clock. */
  now?: Date
  /** Wraps the last check and the delete of each candidate. Default: they run as they are. */
  guardDelete?: GuardDelete
}

export type GarbageCollectionResult = {
  scanned: number
  deleted: string[]
}

/**
 * Content-addressed blob storage, addressed by lowercase hex sha256. Every method validates the
 * digest first and throws InvalidHashError for anything else, before any I/O.
 *
 * The contract a caller relies on: when `put` resolves, the blob is durable and will survive a
 * GC for at least `graceMs`; commit the row that references it within that window.
 */
export interface BlobStore {
  put(source: ByteSource, options: PutOptions): Promise<PutResult>
  /**
   * `put` for bytes already in memory. They are hashed before anything is written, so bytes the
   * store already holds are not written again: the stored blob is refreshed instead.
   */
  putBytes(bytes: Uint8Array, options: PutOptions): Promise<PutResult>
  /** Throws BlobNotFoundError, BlobCorruptError (after quarantining) or RangeNotSatisfiableError. */
  openVerified(sha256: string, options?: OpenOptions): Promise<VerifiedBlob>
  stat(sha256: string): Promise<BlobStat | undefined>
  has(sha256: string): Promise<boolean>
  /** Removes the blob; false when it was not there. Callers make sure no row references it. */
  delete(sha256: string): Promise<boolean>
  /** Every stored digest, for GC and scrubbing. */
  listHashes(): AsyncIterable<string>
  /** Moves the blob out of the store; returns where it went, undefined when it was not there. */
  quarantine(sha256: string, options?: QuarantineOptions): Promise<string | undefined>
  /** Removes temp files left by crashed writes; returns how many. Run at start-up. */
  sweepTempFiles(olderThanMs: number): Promise<number>
  collectGarbage(options: GarbageCollectionOptions): Promise<GarbageCollectionResult>
  /** Throws when the store cannot be used right now (readiness, and the start-up check). */
  probe(): Promise<void>
}
