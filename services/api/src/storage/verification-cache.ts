import type { BigIntStats } from 'node:fs'

/**
 * Remembers which blob files have already been hashed and found correct, so a hot blob is
 * read once and hashed once, not hashed on every GET; for small blobs it can also keep the
 * verified bytes themselves, so a hot blob is not read again either while its file is unchanged.
 *
 * Why this is safe: blobs are immutable (written to a temp file, then renamed into place, never
 * opened for writing again), and the key is the file's identity and change stamps taken with
 * fstat on the very descriptor that is read: device + inode + size + mtime + ctime, in
 * nanoseconds. Any write, truncate, replacement (new inode), utimes or chmod changes one of
 * them; ctime in particular cannot be set back from user space. What the key cannot see is
 * corruption below the file system (bit rot that leaves metadata alone); entries are bounded
 * and evicted oldest-first, and a scrubber passes `rehash: true` to `openVerified` to bypass them.
 */
export type VerificationCache = {
  isVerified(sha256: string, stats: BigIntStats): boolean
  /**
   * Records a verified file; with `content` (its whole, verified bytes), also keeps those bytes
   * while they fit the content budget, for `contentIfUnchanged`.
   */
  markVerified(sha256: string, stats: BigIntStats, content?: Uint8Array): void
  /** Whether bytes are kept for this digest (worth a stat to check they are still current). */
  holdsContent(sha256: string): boolean
  /**
   * The kept bytes, if the file's stamps are still those it had when its bytes were hashed:
   * the same file, unchanged, so its content is exactly these bytes. Shared: never modify them.
   */
  contentIfUnchanged(sha256: string, stats: BigIntStats): Uint8Array | undefined
  forget(sha256: string): void
}

function fingerprint(stats: BigIntStats): string {
  return `${stats.dev}:${stats.ino}:${stats.size}:${stats.mtimeNs}:${stats.ctimeNs}`
}

/**
 * `maxContentBytes` bounds the bytes kept of small hot blobs (0 keeps none); one blob may take at
 * most a sixteenth of it. Least recently read bytes are dropped first; their verification stays.
 */
export function createVerificationCache(
  maxEntries: number,
  maxContentBytes = 0,
): VerificationCache {
  const entries = new Map<string, string>()
  const contents = new Map<string, { stamp: string; content: Uint8Array }>()
  const maxContentEntryBytes = Math.floor(maxContentBytes / 16)
  let heldBytes = 0
  const dropContent = (sha256: string) => {
    const held = contents.get(sha256)
    if (held) {
      contents.delete(sha256)
      heldBytes -= held.content.byteLength
    }
  }
  const keepContent = (sha256: string, stamp: string, content: Uint8Array) => {
    dropContent(sha256)
    if (content.byteLength > maxContentEntryBytes) {
      return
    }
    contents.set(sha256, { stamp, content })
    heldBytes += content.byteLength
    for (const oldest of contents.keys()) {
      if (heldBytes <= maxContentBytes) {
        break
      }
      dropContent(oldest)
    }
  }
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
    markVerified(sha256, stats, content) {
      if (maxEntries <= 0) {
        return
      }
      const stamp = fingerprint(stats)
      entries.delete(sha256)
      entries.set(sha256, stamp)
      if (content) {
        keepContent(sha256, stamp, content)
      } else if (contents.get(sha256)?.stamp !== stamp) {
        dropContent(sha256)
      }
      while (entries.size > maxEntries) {
        const oldest = entries.keys().next()
        if (oldest.done) {
          break
        }
        entries.delete(oldest.value)
        dropContent(oldest.value)
      }
    },
    holdsContent(sha256) {
      return contents.has(sha256)
    },
    contentIfUnchanged(sha256, stats) {
      const held = contents.get(sha256)
      if (held === undefined || held.stamp !== fingerprint(stats)) {
        return undefined
      }
      // Re-insert both, so eviction drops the least recently read first.
      contents.delete(sha256)
      contents.set(sha256, held)
      entries.delete(sha256)
      entries.set(sha256, held.stamp)
      return held.content
    },
    forget(sha256) {
      entries.delete(sha256)
      dropContent(sha256)
    },
  }
}
