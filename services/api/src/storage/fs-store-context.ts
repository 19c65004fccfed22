import type { Clock } from '../ids.ts'
import type { BlobLayout } from './blob-layout.ts'
import type { KeyedLock } from './keyed-lock.ts'
import type { VerificationCache } from './verification-cache.ts'

/** A multiset of digests: two concurrent puts of the same bytes each hold their own count. */
export type HashCounter = {
  add(sha256: string): void
  remove(sha256: string): void
  has(sha256: string): boolean
}

export function createHashCounter(): HashCounter {
  const counts = new Map<string, number>()
  return {
    add(sha256) {
      counts.set(sha256, (counts.get(sha256) ?? 0) + 1)
    },
    remove(sha256) {
      const remaining = (counts.get(sha256) ?? 0) - 1
      if (remaining > 0) {
        counts.set(sha256, remaining)
      } else {
        counts.delete(sha256)
      }
    },
    has(sha256) {
      return counts.has(sha256)
    },
  }
}

/** The state the file-system store's operations share; one per store instance. */
export type FsStoreContext = {
  layout: BlobLayout
  clock: Clock
  /** Held per digest around publish, GC's unlink, delete and quarantine. */
  withLock: KeyedLock
  /** Digests a put is writing or about to publish; GC never deletes these. */
  writing: HashCounter
  /** Temp files of puts in progress; the temp sweep never removes these. */
  activeTempFiles: Set<string>
  /**
   * Shard directories this store has created or found (at most 65,536 per root), each with the
   * making of it: a put waits for it (mkdir and the parent's fsync) before renaming into the
   * directory, so a blob is never published into a directory whose own entry is not durable
   * yet, even when another put made it. Nothing in the store removes a shard directory; should
   * one vanish from outside, the rename fails with ENOENT and publish makes it again.
   */
  shardDirs: Map<string, Promise<void>>
  verified: VerificationCache
  /** Blobs up to this size are read into memory; larger ones are streamed. */
  streamThresholdBytes: number
  ensureDirectories(): Promise<void>
}
