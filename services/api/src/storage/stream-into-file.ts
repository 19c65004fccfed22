import { createHash } from 'node:crypto'
import type { FileHandle } from 'node:fs/promises'
import { type ByteSource, chunksOf } from './byte-source.ts'
import { createEdgeBytes } from './edge-bytes.ts'
import { BlobTooLargeError } from './errors.ts'
import { fdatasyncFd, writeFd } from './fd-calls.ts'

export type StreamedContent = {
  sha256: string
  sizeBytes: number
  head: Uint8Array
  tail: Uint8Array
}

/** An open file: a FileHandle or a plain descriptor (see fd-calls.ts). */
export type WritableFile = FileHandle | number

async function writeFully(file: WritableFile, chunk: Uint8Array): Promise<void> {
  let offset = 0
  while (offset < chunk.byteLength) {
    const length = chunk.byteLength - offset
    offset +=
      typeof file === 'number'
        ? await writeFd(file, chunk, offset, length)
        : (await file.write(chunk, offset, length)).bytesWritten
  }
}

/**
 * Small chunks are copied together and written with one call: each write is a thread-pool round
 * trip, and a socket hands over a body in pieces of 64 KiB or less.
 */
export const WRITE_BATCH_BYTES = 128 * 1024

/**
 * Once this many bytes have been written since the last flush, the file's data is flushed to
 * the disk in the background while more arrives: the final fsync then finds little left to
 * write, so a large upload's disk time overlaps its network time instead of following it.
 */
export const EARLY_FLUSH_BYTES = 4 * 1024 * 1024

/**
 * Copies the source into an open file chunk by chunk, hashing and counting on the way. The size
 * check comes before the chunk is hashed or written, and throwing out of the loop stops the
 * source, so an oversized body is never read much past the limit. Each chunk is written, or
 * copied into the batch, before the next is pulled, so a source may reuse its buffer.
 */
export async function streamIntoFile(
  handle: WritableFile,
  source: ByteSource,
  maxBytes: number,
  /** The source's digest when the caller hashed these very bytes already: not hashed again. */
  knownSha256?: string,
): Promise<StreamedContent> {
  const hash = knownSha256 === undefined ? createHash('sha256') : undefined
  const edges = createEdgeBytes()
  let sizeBytes = 0
  let batch: Buffer | undefined
  let batched = 0
  // At most one background flush at a time; its failure fails the put.
  let unflushed = 0
  let flushing: Promise<void> | undefined
  let flushError: unknown
  const write = async (bytes: Uint8Array) => {
    await writeFully(handle, bytes)
    unflushed += bytes.byteLength
    if (typeof handle === 'number' && !flushing && unflushed >= EARLY_FLUSH_BYTES) {
      unflushed = 0
      flushing = fdatasyncFd(handle)
        .catch((error: unknown) => {
          flushError ??= error
        })
        .finally(() => {
          flushing = undefined
        })
    }
  }
  // Before returning or throwing: the caller closes the descriptor next.
  const settleFlush = async () => {
    await flushing
    if (flushError !== undefined) {
      throw flushError
    }
  }
  const flush = async () => {
    if (batch && batched > 0) {
      await write(batch.subarray(0, batched))
      batched = 0
    }
  }
  try {
    for await (const chunk of chunksOf(source)) {
      if (!(chunk instanceof Uint8Array)) {
        throw new TypeError('A blob source must yield Uint8Array chunks')
      }
      sizeBytes += chunk.byteLength
      if (sizeBytes > maxBytes) {
        throw new BlobTooLargeError(maxBytes)
      }
      hash?.update(chunk)
      edges.add(chunk)
      if (batched === 0 && chunk.byteLength >= WRITE_BATCH_BYTES) {
        await write(chunk)
        continue
      }
      for (let offset = 0; offset < chunk.byteLength; ) {
        batch ??= Buffer.allocUnsafeSlow(WRITE_BATCH_BYTES)
        const taken = Math.min(WRITE_BATCH_BYTES - batched, chunk.byteLength - offset)
        batch.set(chunk.subarray(offset, offset + taken), batched)
        batched += taken
        offset += taken
        if (batched === WRITE_BATCH_BYTES) {
          await flush()
        }
      }
    }
    await flush()
    await settleFlush()
  } catch (error) {
    // The file holds every chunk accepted before the failure, as if each had been written.
    await flush().catch(() => {})
    await settleFlush().catch(() => {})
    throw error
  }
  const sha256 = hash ? hash.digest('hex') : (knownSha256 as string)
  return { sha256, sizeBytes, head: edges.head(), tail: edges.tail() }
}
