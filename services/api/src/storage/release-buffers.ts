/**
 * Gives back the memory of large ArrayBuffers that nothing will read again, now instead of at
 * V8's next full garbage collection.
 *
 * Why: V8 counts ArrayBuffer memory towards its collections. A generation reads a provider's
 * answer (megabytes of base64) and decodes the image, ~3.5 MB per 1.5 MB image; under load
 * these live long enough to be promoted, so only a full collection (Mark-Compact) frees them,
 * and their growth is what starts one: at 32 concurrent generations one every ~15 generations,
 * which cost about a fifth of the CPU. Released here, the memory goes with the next scavenge.
 *
 * How: transferring a buffer into a clone that is dropped at once detaches it (its byteLength
 * becomes 0 and every view of it empty) and hands its memory to an object the next scavenge
 * collects. Only for buffers their owner made itself and is done with: a view used after this
 * reads nothing.
 */

/** Smaller buffers are left to the collector (Node's shared 8 KiB pool slabs among them). */
export const MIN_RELEASED_BYTES = 64 * 1024

export function releaseArrayBuffers(buffers: Iterable<ArrayBufferLike>): void {
  for (const buffer of buffers) {
    if (!(buffer instanceof ArrayBuffer) || buffer.byteLength < MIN_RELEASED_BYTES) {
      continue
    }
    try {
      structuredClone(buffer, { transfer: [buffer] })
    } catch {
      // Not transferable (e.g. a WebAssembly memory): the collector frees it as before.
    }
  }
}
