import { readdir, rm, stat, unlink } from 'node:fs/promises'
import path from 'node:path'
import type { BlobLayout } from './blob-layout.ts'
import {
  type GarbageCollectionOptions,
  type GarbageCollectionResult,
  runUnguarded,
} from './blob-store.ts'
import { hasErrorCode } from './errno.ts'
import type { FsStoreContext } from './fs-store-context.ts'

async function namesIn(directory: string): Promise<string[]> {
  try {
    return (await readdir(directory)).sort()
  } catch (error) {
    // A shard removed or not yet created while walking is simply empty.
    if (hasErrorCode(error, 'ENOENT') || hasErrorCode(error, 'ENOTDIR')) {
      return []
    }
    throw error
  }
}

async function modifiedAtMs(file: string): Promise<number | undefined> {
  try {
    const stats = await stat(file)
    // Whole milliseconds: utimes goes through floating-point seconds, so a stamp of exactly
    // T can read back as T - 0.0001 and expire a blob one tick early.
    return stats.isFile() ? Math.round(stats.mtimeMs) : undefined
  } catch (error) {
    if (hasErrorCode(error, 'ENOENT')) {
      return undefined
    }
    throw error
  }
}

/** Every well-formed blob name under `sha256/`; anything else found there is ignored. */
export async function* listBlobHashes(layout: BlobLayout): AsyncGenerator<string> {
  for (const first of await namesIn(layout.blobsDir)) {
    for (const second of await namesIn(path.join(layout.blobsDir, first))) {
      for (const rest of await namesIn(path.join(layout.blobsDir, first, second))) {
        const sha256 = layout.hashFromShardNames(first, second, rest)
        if (sha256 !== undefined) {
          yield sha256
        }
      }
    }
  }
}

/**
 * Mark-and-sweep against the caller's references. A blob goes only when it is unreferenced, older
 * than the grace period, and no put is writing it. The age and in-flight checks are repeated
 * under the digest's lock right before unlinking, because a put that lands on the blob in the
 * meantime refreshes its mtime under that same lock: a refreshed blob is never deleted.
 */
export async function collectGarbage(
  context: FsStoreContext,
  options: GarbageCollectionOptions,
): Promise<GarbageCollectionResult> {
  const now = (options.now ?? context.clock.now()).getTime()
  const cutoffMs = now - options.graceMs
  const isDeletable = async (blobPath: string, sha256: string) => {
    if (context.writing.has(sha256)) {
      return false
    }
    const mtimeMs = await modifiedAtMs(blobPath)
    return mtimeMs !== undefined && mtimeMs < cutoffMs
  }
  const guardDelete = options.guardDelete ?? runUnguarded
  const result: GarbageCollectionResult = { scanned: 0, deleted: [] }
  for await (const sha256 of listBlobHashes(context.layout)) {
    result.scanned += 1
    const blobPath = context.layout.blobPath(sha256)
    if (!(await isDeletable(blobPath, sha256)) || (await options.isReferenced(sha256))) {
      continue
    }
    // The guard outside the digest's lock, as a discard takes them: never the other way round.
    const deleted = await guardDelete(sha256, () =>
      context.withLock(sha256, async () => {
        if (!(await isDeletable(blobPath, sha256))) {
          return false
        }
        context.verified.forget(sha256)
        try {
          await unlink(blobPath)
          return true
        } catch (error) {
          if (hasErrorCode(error, 'ENOENT')) {
            return false
          }
          throw error
        }
      }),
    )
    if (deleted === true) {
      result.deleted.push(sha256)
    }
  }
  return result
}

/** Removes temp files older than `olderThanMs` that no put in this process is still writing. */
export async function sweepTempFiles(
  context: FsStoreContext,
  olderThanMs: number,
): Promise<number> {
  await context.ensureDirectories()
  const cutoffMs = context.clock.now().getTime() - olderThanMs
  let removed = 0
  for (const name of await namesIn(context.layout.tmpDir)) {
    const tempPath = path.join(context.layout.tmpDir, name)
    if (context.activeTempFiles.has(tempPath)) {
      continue
    }
    const mtimeMs = await modifiedAtMs(tempPath)
    if (mtimeMs !== undefined && mtimeMs < cutoffMs) {
      await rm(tempPath, { force: true })
      removed += 1
    }
  }
  return removed
}
