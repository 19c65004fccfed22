import { createHash } from 'node:crypto'
import type { FileHandle } from 'node:fs/promises'
import { type ByteSource, chunksOf } from './byte-source.ts'
import { createEdgeBytes } from './edge-bytes.ts'
import { BlobTooLargeError } from './errors.ts'

export type StreamedContent = {
  sha256: string
  sizeBytes: number
  head: Uint8Array
  tail: Uint8Array
}

async function writeFully(handle: FileHandle, chunk: Uint8Array): Promise<void> {
  let offset = 0
  while (offset < chunk.byteLength) {
    const { bytesWritten } = await handle.write(chunk, offset, chunk.byteLength - offset)
    offset += bytesWritten
  }
}

/**
 * Copies the source into an open file chunk by chunk, hashing and counting on the way. The size
 * check comes before the chunk is hashed or written, and throwing out of the loop stops the
 * source, so an oversized body is never read much past the limit.
 */
export async function streamIntoFile(
  handle: FileHandle,
  source: ByteSource,
  maxBytes: number,
): Promise<StreamedContent> {
  const hash = createHash('sha256')
  const edges = createEdgeBytes()
  let sizeBytes = 0
  for await (const chunk of chunksOf(source)) {
    if (!(chunk instanceof Uint8Array)) {
      throw new TypeError('A blob source must yield Uint8Array chunks')
    }
    sizeBytes += chunk.byteLength
    if (sizeBytes > maxBytes) {
      throw new BlobTooLargeError(maxBytes)
    }
    hash.update(chunk)
    edges.add(chunk)
    await writeFully(handle, chunk)
  }
  return { sha256: hash.digest('hex'), sizeBytes, head: edges.head(), tail: edges.tail() }
}
