/**
 * Digests an in-progress request is about to reference. GC treats a pinned digest as referenced,
 * closing the window between "the blob is stored" and "the row that names it is committed".
 */
export function createBlobPins() {
  const counts = new Map<string, number>()
  return {
    pin(sha256: string) {
      counts.set(sha256, (counts.get(sha256) ?? 0) + 1)
      let released = false
      return () => {
        if (released) {
          return
        }
        released = true
        const left = (counts.get(sha256) ?? 1) - 1
        if (left === 0) {
          counts.delete(sha256)
        } else {
          counts.set(sha256, left)
        }
      }
    },
    count(sha256: string): number {
      return counts.get(sha256) ?? 0
    },
  }
}

export type BlobPins = ReturnType<typeof createBlobPins>
