import { createHash } from 'node:crypto'
import { type BigIntStats, statSync } from 'node:fs'
import { type FileHandle, open } from 'node:fs/promises'
import { assertSha256Hex } from './blob-hash.ts'
import type { OpenOptions, VerifiedBlob } from './blob-store.ts'
import { resolveRange } from './byte-range.ts'
import { hasErrorCode } from './errno.ts'
import { BlobCorruptError, BlobNotFoundError } from './errors.ts'
import { readAt, streamRange } from './file-range.ts'
import { moveToQuarantine } from './fs-quarantine.ts'
import type { FsStoreContext } from './fs-store-context.ts'

const HASH_CHUNK_BYTES = 1024 * 1024

async function hashWholeFile(handle: FileHandle, sizeBytes: number): Promise<string> {
  const hash = createHash('sha256')
  const buffer = Buffer.allocUnsafe(Math.min(HASH_CHUNK_BYTES, Math.max(sizeBytes, 1)))
  let position = 0
  while (true) {
    const { bytesRead } = await handle.read(buffer, 0, buffer.byteLength, position)
    if (bytesRead === 0) {
      return hash.digest('hex')
    }
    hash.update(buffer.subarray(0, bytesRead))
    position += bytesRead
  }
}

async function rejectCorrupt(
  context: FsStoreContext,
  sha256: string,
  actualSha256: string,
  stats: BigIntStats,
): Promise<never> {
  context.verified.forget(sha256)
  const quarantinedTo = await context.withLock(sha256, () =>
    moveToQuarantine(context, sha256, stats.ino),
  )
  throw new BlobCorruptError(sha256, actualSha256, quarantinedTo)
}

/**
 * The verified bytes kept for a small hot blob (see verification-cache), if its file is still
 * the one they were read from and unchanged. One stat of the path, done inline: the entry only
 * exists for a file read recently, whose inode the kernel has cached, so the call costs a few
 * µs, where a thread-pool call costs two context switches on the core the event loop runs on.
 */
function heldContent(context: FsStoreContext, sha256: string, blobPath: string) {
  if (!context.verified.holdsContent(sha256)) {
    return undefined
  }
  const stats = statSync(blobPath, { bigint: true, throwIfNoEntry: false })
  return stats?.isFile() ? context.verified.contentIfUnchanged(sha256, stats) : undefined
}

/**
 * Returns a blob's content (or a range of it) only after the whole blob was proven to hash to
 * its name, or was proven so earlier and the file is unchanged since (see verification-cache).
 * The descriptor is opened once: what is verified is what is served, even if the name is
 * replaced meanwhile. A small blob costs open + fstat + one read (+ one hash when not cached);
 * a small blob read whole is kept in memory, and then costs one stat while its file is unchanged.
 * Bytes returned may be shared with later calls: never modify them.
 */
export async function openVerifiedBlob(
  context: FsStoreContext,
  sha256: string,
  options: OpenOptions = {},
): Promise<VerifiedBlob> {
  assertSha256Hex(sha256)
  const blobPath = context.layout.blobPath(sha256)
  const held = options.rehash === true ? undefined : heldContent(context, sha256, blobPath)
  if (held) {
    const { offset, length } = resolveRange(options.range, held.byteLength)
    const bytes = held.subarray(offset, offset + length)
    return { sha256, sizeBytes: held.byteLength, offset, length, kind: 'bytes', bytes }
  }
  let handle: FileHandle
  try {
    handle = await open(blobPath, 'r')
  } catch (error) {
    if (hasErrorCode(error, 'ENOENT')) {
      throw new BlobNotFoundError(sha256)
    }
    throw error
  }
  let handedOver = false
  try {
    const stats = await handle.stat({ bigint: true })
    const sizeBytes = Number(stats.size)
    const { offset, length } = resolveRange(options.range, sizeBytes)
    const facts = { sha256, sizeBytes, offset, length }
    const trusted = options.rehash !== true && context.verified.isVerified(sha256, stats)

    if (sizeBytes <= context.streamThresholdBytes) {
      if (trusted) {
        const part = await readAt(handle, offset, length)
        if (part.byteLength === length) {
          if (length === sizeBytes) {
            context.verified.markVerified(sha256, stats, part)
          }
          return { ...facts, kind: 'bytes', bytes: part }
        }
      }
      const whole = await readAt(handle, 0, sizeBytes)
      const actual = createHash('sha256').update(whole).digest('hex')
      if (actual !== sha256 || whole.byteLength !== sizeBytes) {
        return await rejectCorrupt(context, sha256, actual, stats)
      }
      context.verified.markVerified(sha256, stats, whole)
      return { ...facts, kind: 'bytes', bytes: whole.subarray(offset, offset + length) }
    }

    if (!trusted) {
      const actual = await hashWholeFile(handle, sizeBytes)
      if (actual !== sha256) {
        return await rejectCorrupt(context, sha256, actual, stats)
      }
      context.verified.markVerified(sha256, stats)
    }
    handedOver = true
    return { ...facts, kind: 'stream', stream: streamRange(handle, offset, length) }
  } finally {
    if (!handedOver) {
      await handle.close()
    }
  }
}
