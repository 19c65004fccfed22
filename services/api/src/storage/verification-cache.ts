import type { BigIntStats } from 'node:fs'

/**
 * Remembers which blob files have already been hashed and found correct, so a hot blob is
 * read once and hashed once, not hashed on every GET.
 *
 * Why this is safe: blobs are immutable (written to a temp file, then linked into place, never
 * opened for writing again), and the key is the file's identity and change stamps taken with
 * fstat on the very descriptor that is read: device + inode + size + mtime + ctime, in
 * nanoseconds. Any write, truncate, replacement (new inode), utimes or chmod changes one of
 * them; ctime in particular cannot be set back from user space. What the key cannot see is
 * corruption below the file system (bit rot that leaves metadata alone); entries are bounded
 * and evicted oldest-first, and a scrubber passes `rehash: true` to `openVerified` to bypass them.
 */
export type VerificationCache = {
  isVerified(sha256: string, stats: BigIntStats): boolean
  markVerified(sha256: string, stats: BigIntStats): void
  forget(sha256: string): void
}

function fingerprint(stats: BigIntStats): string {
  return `${stats.dev}:${stats.ino}:${stats.size}:${stats.mtimeNs}:${stats.ctimeNs}`
}

export function createVerificationCache(maxEntries: number): VerificationCache {
  const entries = new Map<string, string>()
  return {
    isVerified(sha256, stats) {
      const known = entries.get(sha256)
      if (known === undefined || known !== fingerprint(stats)) {
        return false
      }
      // Re-insert so eviction drops the least recently read blob first.
      entries.delete(sha256)
      entries.set(sha256, known)
      return true
    },
    markVerified(sha256, stats) {
      if (maxEntries <= 0) {
        return
      }
      entries.delete(sha256)
      entries.set(sha256, fingerprint(stats))
      while (entries.size > maxEntries) {
        const oldest = entries.keys().next()
        if (oldest.done) {
          break
        }
        entries.delete(oldest.value)
      }
    },
    forget(sha256) {
      entries.delete(sha256)
    },
  }
}
