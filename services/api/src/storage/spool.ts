import { createHash, randomUUID } from 'node:crypto'
import { type FileHandle, mkdir, open, unlink } from 'node:fs/promises'
import path from 'node:path'
import { type ByteSource, chunksOf } from './byte-source.ts'
import { createEdgeBytes } from './edge-bytes.ts'
import { hasErrorCode } from './errno.ts'
import { BlobTooLargeError } from './errors.ts'
import { streamIntoFile } from './stream-into-file.ts'

/** Spool files are named so; the temp sweep removes any a crash left between open and unlink. */
export const SPOOL_FILE_PREFIX = 'imagegate-spool-'

export type SpoolBody = { kind: 'bytes'; bytes: Uint8Array } | { kind: 'file'; handle: FileHandle }

/** A source read to its end: hashed, counted, and held in memory or in a nameless temp file. */
export type SpooledContent = {
  sha256: string
  sizeBytes: number
  head: Uint8Array
  tail: Uint8Array
  body: SpoolBody
  /** Closes the temp file, which frees its space (it has no name left). Safe to call twice. */
  close(): Promise<void>
}

export type SpoolOptions = {
  maxBytes: number
  /** Sources up to this size stay in memory; larger ones go to a file in `directory`. */
  memoryBytes: number
  directory: string
}

/**
 * A temp file that no one else can see and that no crash can leave behind: it is unlinked right
 * after it is created and lives on through its descriptor until closed.
 */
export async function openNamelessFile(directory: string): Promise<FileHandle> {
  const file = path.join(directory, `${SPOOL_FILE_PREFIX}${randomUUID()}`)
  const handle = await open(file, 'wx+', 0o600).catch(async (error: unknown) => {
    if (!hasErrorCode(error, 'ENOENT')) {
      throw error
    }
    // The directory is made on first use.
    await mkdir(directory, { recursive: true })
    return open(file, 'wx+', 0o600)
  })
  try {
    await unlink(file)
  } catch (error) {
    await handle.close()
    throw error
  }
  return handle
}

function fromMemory(chunks: Uint8Array[], sizeBytes: number): SpooledContent {
  const bytes = chunks.length === 1 && chunks[0] ? chunks[0] : Buffer.concat(chunks, sizeBytes)
  const edges = createEdgeBytes()
  edges.add(bytes)
  return {
    sha256: createHash('sha256').update(bytes).digest('hex'),
    sizeBytes,
    head: edges.head(),
    tail: edges.tail(),
    body: { kind: 'bytes', bytes },
    close: async () => {},
  }
}

/**
 * Reads a source to its end before anything is sent to the object store, so the bytes can be
 * hashed and checked first: a store key names content that was proven to be that content.
 * Small sources are kept in memory; once one passes `memoryBytes`, what was read so far and
 * the rest go to a nameless temp file (streamIntoFile hashes and counts them all). The size
 * limit is enforced chunk by chunk in both phases, and stopping early stops the source.
 */
export async function spoolSource(
  source: ByteSource,
  { maxBytes, memoryBytes, directory }: SpoolOptions,
): Promise<SpooledContent> {
  const iterator = chunksOf(source)
  const buffered: Uint8Array[] = []
  let sizeBytes = 0
  let overflow: Uint8Array | undefined
  try {
    while (true) {
      const next = await iterator.next()
      if (next.done) {
        return fromMemory(buffered, sizeBytes)
      }
      const chunk = next.value
      if (!(chunk instanceof Uint8Array)) {
        throw new TypeError('A blob source must yield Uint8Array chunks')
      }
      if (sizeBytes + chunk.byteLength > maxBytes) {
        throw new BlobTooLargeError(maxBytes)
      }
      if (sizeBytes + chunk.byteLength > memoryBytes) {
        overflow = chunk
        break
      }
      // A copy: a source may reuse its buffer once the next chunk is pulled.
      buffered.push(chunk.slice())
      sizeBytes += chunk.byteLength
    }
  } catch (error) {
    await iterator.return(undefined)
    throw error
  }

  async function* everything(): AsyncGenerator<Uint8Array> {
    try {
      yield* buffered
      if (overflow) {
        yield overflow
      }
      while (true) {
        const next = await iterator.next()
        if (next.done) {
          return
        }
        yield next.value
      }
    } finally {
      await iterator.return(undefined)
    }
  }
  const handle = await openNamelessFile(directory).catch(async (error: unknown) => {
    await iterator.return(undefined)
    throw error
  })
  try {
    const content = await streamIntoFile(handle, everything(), maxBytes)
    let closed: Promise<void> | undefined
    return {
      ...content,
      body: { kind: 'file', handle },
      close: () => {
        closed ??= handle.close()
        return closed
      },
    }
  } catch (error) {
    await handle.close()
    throw error
  }
}
