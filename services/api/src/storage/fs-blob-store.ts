import { constants } from 'node:fs'
import { access, stat, unlink } from 'node:fs/promises'
import { type Clock, systemClock } from '../ids.ts'
import { assertSha256Hex } from './blob-hash.ts'
import { createBlobLayout } from './blob-layout.ts'
import type { BlobStat, BlobStore } from './blob-store.ts'
import { makeDirectoryDurably } from './durable-fs.ts'
import { hasErrorCode } from './errno.ts'
import { collectGarbage, listBlobHashes, sweepTempFiles } from './fs-gc.ts'
import { putBlob, putBlobBytes } from './fs-put.ts'
import { moveToQuarantine } from './fs-quarantine.ts'
import { openVerifiedBlob } from './fs-read.ts'
import { createHashCounter, type FsStoreContext } from './fs-store-context.ts'
import { createKeyedLock } from './keyed-lock.ts'
import { createVerificationCache } from './verification-cache.ts'

export type FsBlobStoreOptions = {
  /** Store root; `sha256/`, `tmp/` and `quarantine/` are created beneath it on first use. */
  root: string
  /** Stamps blob mtimes and is GC's default "now". */
  clock?: Clock
  /** Blobs up to this size are returned as bytes, larger ones as a stream. Default 8 MiB. */
  streamThresholdBytes?: number
  /** How many verified blob files to remember (see verification-cache.ts). 0 disables. */
  verificationCacheEntries?: number
  /**
   * Bytes of small, hot, verified blobs kept in memory (each at most a sixteenth of it), served
   * while their file is unchanged. Default 32 MiB; 0 keeps none.
   */
  contentCacheBytes?: number
}

/**
 * The single-node content-addressed store: `<root>/sha256/ab/cd/<rest>`. One instance per root
 * per process — the locks and in-flight sets that keep GC safe live in this object.
 */
export function createFsBlobStore(options: FsBlobStoreOptions): BlobStore {
  const layout = createBlobLayout(options.root)
  let directoriesReady: Promise<void> | undefined
  const context: FsStoreContext = {
    layout,
    clock: options.clock ?? systemClock,
    withLock: createKeyedLock(),
    writing: createHashCounter(),
    activeTempFiles: new Set(),
    shardDirs: new Map(),
    verified: createVerificationCache(
      options.verificationCacheEntries ?? 50_000,
      options.contentCacheBytes ?? 32 * 1024 * 1024,
    ),
    streamThresholdBytes: options.streamThresholdBytes ?? 8 * 1024 * 1024,
    ensureDirectories() {
      directoriesReady ??= Promise.all(
        [layout.blobsDir, layout.tmpDir, layout.quarantineDir].map(makeDirectoryDurably),
      ).then(
        () => {},
        (error: unknown) => {
          directoriesReady = undefined
          throw error
        },
      )
      return directoriesReady
    },
  }

  const statBlob = async (sha256: string): Promise<BlobStat | undefined> => {
    assertSha256Hex(sha256)
    const blobPath = layout.blobPath(sha256)
    try {
      const stats = await stat(blobPath)
      return { sha256, sizeBytes: stats.size, modifiedAt: stats.mtime, path: blobPath }
    } catch (error) {
      if (hasErrorCode(error, 'ENOENT')) {
        return undefined
      }
      throw error
    }
  }

  return {
    put: (source, putOptions) => putBlob(context, source, putOptions),
    putBytes: (bytes, putOptions) => putBlobBytes(context, bytes, putOptions),
    openVerified: (sha256, openOptions) => openVerifiedBlob(context, sha256, openOptions),
    stat: statBlob,
    async has(sha256) {
      return (await statBlob(sha256)) !== undefined
    },
    async delete(sha256) {
      assertSha256Hex(sha256)
      return context.withLock(sha256, async () => {
        context.verified.forget(sha256)
        try {
          await unlink(layout.blobPath(sha256))
          return true
        } catch (error) {
          if (hasErrorCode(error, 'ENOENT')) {
            return false
          }
          throw error
        }
      })
    },
    listHashes: () => listBlobHashes(layout),
    async quarantine(sha256) {
      assertSha256Hex(sha256)
      return context.withLock(sha256, () => moveToQuarantine(context, sha256))
    },
    sweepTempFiles: (olderThanMs) => sweepTempFiles(context, olderThanMs),
    collectGarbage: (gcOptions) => collectGarbage(context, gcOptions),
    /** The store's directories exist (or can be made) and can be written. */
    async probe() {
      await context.ensureDirectories()
      if (!(await stat(layout.blobsDir)).isDirectory()) {
        throw new Error(`${layout.blobsDir} is not a directory`)
      }
      await access(layout.blobsDir, constants.R_OK | constants.W_OK)
    },
  }
}
