import type { BlobPins } from './blob-pins.ts'

/**
 * Pins in this process's memory: enough when one process owns the blob store's metadata. They
 * never expire (they end with the process), and `unlessPinned` holds back this process's pins.
 */
export function createMemoryBlobPins(): BlobPins {
  const counts = new Map<string, number>()
  /** Digests an `unlessPinned` section is running on, and its end. */
  const sections = new Map<string, Promise<unknown>>()
  return {
    async pin(sha256) {
      for (let section = sections.get(sha256); section; section = sections.get(sha256)) {
        await section.catch(() => {})
      }
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
    async unlessPinned(sha256, work) {
      for (let section = sections.get(sha256); section; section = sections.get(sha256)) {
        await section.catch(() => {})
      }
      if ((counts.get(sha256) ?? 0) > 0) {
        return undefined
      }
      const running = work()
      sections.set(sha256, running)
      try {
        return await running
      } finally {
        sections.delete(sha256)
      }
    },
    purgeExpired: async () => 0,
  }
}
