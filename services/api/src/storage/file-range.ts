import type { FileHandle } from 'node:fs/promises'

const STREAM_CHUNK_BYTES = 256 * 1024

/** Reads `length` bytes at `offset`; fewer means the file shrank under us. */
export async function readAt(
  handle: FileHandle,
  offset: number,
  length: number,
): Promise<Uint8Array> {
  // Not pooled: a pooled view would let `.buffer` reach unrelated memory.
  const bytes = Buffer.allocUnsafeSlow(length)
  let filled = 0
  while (filled < length) {
    const { bytesRead } = await handle.read(bytes, filled, length - filled, offset + filled)
    if (bytesRead === 0) {
      break
    }
    filled += bytesRead
  }
  return bytes.subarray(0, filled)
}

/** A web stream over part of an open file; it owns the handle and closes it when done. */
export function streamRange(handle: FileHandle, offset: number, length: number) {
  let position = offset
  const end = offset + length
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        const wanted = Math.min(STREAM_CHUNK_BYTES, end - position)
        const chunk = wanted > 0 ? await readAt(handle, position, wanted) : new Uint8Array(0)
        if (chunk.byteLength === 0) {
          await handle.close()
          controller.close()
          return
        }
        position += chunk.byteLength
        controller.enqueue(chunk)
      } catch (error) {
        await handle.close().catch(() => {})
        controller.error(error)
      }
    },
    async cancel() {
      await handle.close()
    },
  })
}
