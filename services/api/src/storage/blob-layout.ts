import path from 'node:path'
import { assertSha256Hex, isSha256Hex } from './blob-hash.ts'

/**
 * Where things live under the store root. Blobs are sharded two levels deep by hash prefix
 * (`sha256/ab/cd/<remaining 60 hex>`) so no directory grows past 65,536 entries per level;
 * `tmp/` sits on the same file system so publishing a blob is a rename, never a copy.
 */
export type BlobLayout = {
  root: string
  blobsDir: string
  tmpDir: string
  quarantineDir: string
  shardDir(sha256: string): string
  blobPath(sha256: string): string
  /** Inverse of blobPath for names found while walking `blobsDir`; undefined for strays. */
  hashFromShardNames(first: string, second: string, rest: string): string | undefined
}

export function createBlobLayout(root: string): BlobLayout {
  const resolvedRoot = path.resolve(root)
  const blobsDir = path.join(resolvedRoot, 'sha256')
  const shardDir = (sha256: string) => {
    assertSha256Hex(sha256)
    return path.join(blobsDir, sha256.slice(0, 2), sha256.slice(2, 4))
  }
  return {
    root: resolvedRoot,
    blobsDir,
    tmpDir: path.join(resolvedRoot, 'tmp'),
    quarantineDir: path.join(resolvedRoot, 'quarantine'),
    shardDir,
    blobPath(sha256) {
      return path.join(shardDir(sha256), sha256.slice(4))
    },
    hashFromShardNames(first, second, rest) {
      const sha256 = `${first}${second}${rest}`
      const wellFormed = first.length === 2 && second.length === 2 && isSha256Hex(sha256)
      return wellFormed ? sha256 : undefined
    },
  }
}
