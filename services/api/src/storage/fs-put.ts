import { randomUUID } from 'node:crypto'
import { statSync, utimesSync } from 'node:fs'
import { rename, unlink } from 'node:fs/promises'
import path from 'node:path'
import type { ByteSource, PutOptions, PutResult } from './blob-store.ts'
import { singleChunk } from './byte-source.ts'
import { fsyncDirectory, makeDirectoryDurably } from './durable-fs.ts'
import { createEdgeBytes } from './edge-bytes.ts'
import { hasErrorCode } from './errno.ts'
import { DigestMismatchError } from './errors.ts'
import { closeFd, fsyncFd, futimesFd, openFd } from './fd-calls.ts'
import { moveToQuarantine } from './fs-quarantine.ts'
import type { FsStoreContext } from './fs-store-context.ts'
import { checkedDigestOf, checkPutOptions } from './put-options.ts'
import { streamIntoFile } from './stream-into-file.ts'

/** Blobs are never written after publication; read-only files make that visible on disk. */
const BLOB_FILE_MODE = 0o444
const PUBLISH_ATTEMPTS = 3

/**
 * Makes a shard directory durably (mkdir, then fsync of each parent that gained an entry), once
 * per directory: concurrent puts into the same new directory share the one making and all wait
 * for its fsync, so none renames into a directory whose own entry could still be lost.
 */
function ensureShardDir(context: FsStoreContext, shardDir: string): Promise<void> {
  let made = context.shardDirs.get(shardDir)
  if (made === undefined) {
    made = makeDirectoryDurably(shardDir).catch((error: unknown) => {
      context.shardDirs.delete(shardDir)
      throw error
    })
    context.shardDirs.set(shardDir, made)
  }
  return made
}

/**
 * Puts the finished temp file in place under the digest's lock, and says whether it did (true)
 * or found the bytes already stored (false; the temp file is then still there). Under the lock,
 * and with this store the only writer of its names, whether the blob exists is asked first:
 * if it does, it is kept and its mtime refreshed (GC then treats it as new), and an existing
 * file of the wrong size is corrupt and replaced by this good copy; if not, the temp file is
 * renamed into place. (Were an outside writer to race the rename, it would replace the blob
 * with the same, hash-checked bytes.) The stat and the mtime refresh run inline: a lookup in a
 * directory just used and an inode update, where a thread-pool call costs two context switches
 * on the event loop's core.
 */
async function publish(
  context: FsStoreContext,
  tempPath: string,
  sha256: string,
  sizeBytes: number,
  publishedAt: Date,
  /** Makes the temp file's bytes durable; called before it is renamed into place. */
  beforeRename: () => Promise<void>,
): Promise<boolean> {
  const shardDir = context.layout.shardDir(sha256)
  const blobPath = context.layout.blobPath(sha256)
  for (let attempt = 1; ; attempt++) {
    await ensureShardDir(context, shardDir)
    const existing = statSync(blobPath, { throwIfNoEntry: false })
    if (existing === undefined) {
      await beforeRename()
      try {
        await rename(tempPath, blobPath)
      } catch (error) {
        if (hasErrorCode(error, 'ENOENT') && attempt < PUBLISH_ATTEMPTS) {
          // The shard directory was removed from outside: make it again and retry.
          context.shardDirs.delete(shardDir)
          continue
        }
        throw error
      }
      await fsyncDirectory(shardDir)
      return true
    }
    try {
      if (existing.size === sizeBytes) {
        utimesSync(blobPath, publishedAt, publishedAt)
        return false
      }
      await beforeRename()
      await moveToQuarantine(context, sha256)
    } catch (error) {
      // Gone since the stat (removed outside this process): publish again.
      if (!hasErrorCode(error, 'ENOENT') || attempt >= PUBLISH_ATTEMPTS) {
        throw error
      }
    }
    if (attempt >= PUBLISH_ATTEMPTS) {
      throw new Error(`Could not publish blob ${sha256}`)
    }
  }
}

/** Whether a blob of this digest and size is in place (a lookup in a directory just used). */
function isStored(context: FsStoreContext, sha256: string, sizeBytes: number): boolean {
  return statSync(context.layout.blobPath(sha256), { throwIfNoEntry: false })?.size === sizeBytes
}

/**
 * The durable write protocol: temp file (O_EXCL) → stream + hash + count → verify → fsync →
 * rename → fsync(shard dir). Only then does it resolve, so a row committed afterwards always
 * points at a blob that exists. Bytes already stored skip the fsync and the rename: their temp
 * file is removed and the stored blob's mtime refreshed. Every failure removes the temp file.
 */
export async function putBlob(
  context: FsStoreContext,
  source: ByteSource,
  options: PutOptions,
  /** The digest of `source`, computed from its very bytes by putBlobBytes: not hashed again. */
  knownSha256?: string,
): Promise<PutResult> {
  const { maxBytes, expectedSha256 } = options
  checkPutOptions(options)
  await context.ensureDirectories()
  const tempPath = path.join(context.layout.tmpDir, `${randomUUID()}.part`)
  const protectedHashes: string[] = []
  const protect = (sha256: string) => {
    context.writing.add(sha256)
    protectedHashes.push(sha256)
  }
  if (expectedSha256 !== undefined) {
    protect(expectedSha256)
  }
  context.activeTempFiles.add(tempPath)
  let fd: number | undefined
  let tempLeft = true
  try {
    fd = await openFd(tempPath, 'wx', BLOB_FILE_MODE)
    const content = await streamIntoFile(fd, source, maxBytes, knownSha256)
    if (expectedSha256 !== undefined && content.sha256 !== expectedSha256) {
      throw new DigestMismatchError(expectedSha256, content.sha256)
    }
    if (content.sha256 !== expectedSha256) {
      protect(content.sha256)
    }
    await options.beforeWrite?.(content.sha256)
    // The store's clock stamps the blob so GC's grace period and the clock agree.
    const publishedAt = context.clock.now()
    await futimesFd(fd, publishedAt, publishedAt)
    // Bytes this store already holds (same digest, same size) are not synced again: the copy is
    // about to be dropped, and the stored blob was made durable by the put that published it
    // (publish holds the digest's lock through its directory fsync). The look here is only a
    // hint; publish decides under the lock, and syncs first if it does rename this file.
    const file = fd
    let synced = false
    const sync = async () => {
      if (!synced) {
        await fsyncFd(file)
        synced = true
      }
    }
    // New bytes: the file's fsync and the making of its shard directory (when new, a mkdir and
    // the parent's fsync) wait for the disk side by side rather than one after the other.
    if (!isStored(context, content.sha256, content.sizeBytes)) {
      await Promise.all([sync(), ensureShardDir(context, context.layout.shardDir(content.sha256))])
    }
    const created = await context.withLock(content.sha256, () =>
      publish(context, tempPath, content.sha256, content.sizeBytes, publishedAt, sync),
    )
    fd = undefined
    closeFd(file)
    // Renamed into place: there is no temp name left to remove.
    tempLeft = !created
    return {
      sha256: content.sha256,
      sizeBytes: content.sizeBytes,
      path: context.layout.blobPath(content.sha256),
      created,
      head: content.head,
      tail: content.tail,
    }
  } finally {
    if (fd !== undefined) {
      try {
        closeFd(fd)
      } catch {
        // already failing; the temp file goes below
      }
    }
    if (tempLeft) {
      await unlink(tempPath).catch(() => {})
    }
    context.activeTempFiles.delete(tempPath)
    for (const sha256 of protectedHashes) {
      context.writing.remove(sha256)
    }
  }
}

/**
 * `putBlob` for bytes already in memory (a generated image): hashed before anything is written,
 * so bytes the store already holds are not written, synced or even opened as a temp file; the
 * stored blob's mtime is refreshed instead, under the digest's lock, exactly as a put that found
 * them would. New bytes go through the durable write protocol without being hashed twice.
 */
export async function putBlobBytes(
  context: FsStoreContext,
  bytes: Uint8Array,
  options: PutOptions,
): Promise<PutResult> {
  const sha256 = checkedDigestOf(bytes, options)
  await options.beforeWrite?.(sha256)
  if (isStored(context, sha256, bytes.byteLength)) {
    // From here GC leaves the blob alone; the look under the lock decides.
    context.writing.add(sha256)
    try {
      const refreshed = await context.withLock(sha256, () =>
        refreshStored(context, sha256, bytes.byteLength),
      )
      if (refreshed) {
        const edges = createEdgeBytes()
        edges.add(bytes)
        return {
          sha256,
          sizeBytes: bytes.byteLength,
          path: context.layout.blobPath(sha256),
          created: false,
          head: edges.head(),
          tail: edges.tail(),
        }
      }
    } finally {
      context.writing.remove(sha256)
    }
  }
  // Already called above, for these very bytes.
  const { beforeWrite: _called, ...rest } = options
  return putBlob(context, singleChunk(bytes), rest, sha256)
}

/** Under the digest's lock: refreshes the stored blob's mtime if it is there at this size. */
async function refreshStored(
  context: FsStoreContext,
  sha256: string,
  sizeBytes: number,
): Promise<boolean> {
  const blobPath = context.layout.blobPath(sha256)
  if (statSync(blobPath, { throwIfNoEntry: false })?.size !== sizeBytes) {
    return false
  }
  const now = context.clock.now()
  try {
    utimesSync(blobPath, now, now)
    return true
  } catch (error) {
    if (hasErrorCode(error, 'ENOENT')) {
      return false
    }
    throw error
  }
}
