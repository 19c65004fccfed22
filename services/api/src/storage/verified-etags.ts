/**
 * Which object versions were hashed and found correct, by digest: the ETag a verified object
 * had and its size. An ETag names one version of an object (a rewrite with other bytes gets
 * another), so a later read that gets the same ETag back reads the bytes that were verified,
 * and a range can be served without downloading the whole object again. What this cannot see
 * is corruption inside the store that keeps the ETag (bit rot under the service): entries are
 * bounded, and `rehash: true` bypasses them, as with the file-system store's cache.
 */
export type VerifiedEtags = {
  get(sha256: string): { etag: string; sizeBytes: number } | undefined
  set(sha256: string, etag: string, sizeBytes: number): void
  forget(sha256: string): void
}

export function createVerifiedEtags(maxEntries: number): VerifiedEtags {
  const entries = new Map<string, { etag: string; sizeBytes: number }>()
  return {
    get(sha256) {
      const known = entries.get(sha256)
      if (known) {
        // Re-inserted so eviction drops the least recently read first.
        entries.delete(sha256)
        entries.set(sha256, known)
      }
      return known
    },
    set(sha256, etag, sizeBytes) {
      if (maxEntries <= 0) {
        return
      }
      entries.delete(sha256)
      entries.set(sha256, { etag, sizeBytes })
      for (const oldest of entries.keys()) {
        if (entries.size <= maxEntries) {
          break
        }
        entries.delete(oldest)
      }
    },
    forget(sha256) {
      entries.delete(sha256)
    },
  }
}
