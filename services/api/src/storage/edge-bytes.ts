/** How many bytes of each end of a blob `put` hands back: enough for magic numbers and markup. */
export const EDGE_BYTES = 4096

/**
 * Keeps the first and the last `limit` bytes of a stream as it passes, so the caller can sniff
 * the type (and look for markup at either end) without reading the blob again.
 */
export function createEdgeBytes(limit = EDGE_BYTES) {
  const head = new Uint8Array(limit)
  let headLength = 0
  let tail = new Uint8Array(0)
  return {
    add(chunk: Uint8Array): void {
      if (headLength < limit) {
        const taken = chunk.subarray(0, limit - headLength)
        head.set(taken, headLength)
        headLength += taken.byteLength
      }
      const recent = chunk.byteLength >= limit ? chunk.subarray(chunk.byteLength - limit) : chunk
      const keepFromTail = Math.min(tail.byteLength, limit - recent.byteLength)
      const next = new Uint8Array(keepFromTail + recent.byteLength)
      next.set(tail.subarray(tail.byteLength - keepFromTail), 0)
      next.set(recent, keepFromTail)
      tail = next
    },
    head(): Uint8Array {
      return head.slice(0, headLength)
    },
    tail(): Uint8Array {
      return tail
    },
  }
}
