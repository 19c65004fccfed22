import type { BlobPins } from './blob-pins.ts'

/** Pins in this process's memory: enough when one process owns the blob store's metadata. */
export function createMemoryBlobPins(): BlobPins {
  const counts = new Map<string, number>()
  return {
    async pin(sha256) {
      counts.set(sha256, (counts.get(sha256) ?? 0) + 1)
      let released = false
      return async () => {
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
    count: async (sha256) => counts.get(sha256) ?? 0,
  }
}
