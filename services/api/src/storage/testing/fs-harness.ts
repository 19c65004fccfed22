import { chmod, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { createBlobLayout } from '../blob-layout.ts'
import { hasErrorCode } from '../errno.ts'
import { createFsBlobStore } from '../fs-blob-store.ts'
import { type BlobStoreHarness, GC_GRACE_MS } from './blob-store-harness.ts'

/** Every file under a directory, as sorted paths relative to it; none when it does not exist. */
export async function filesUnder(directory: string): Promise<string[]> {
  try {
    const entries = await readdir(directory, { recursive: true, withFileTypes: true })
    return entries
      .filter((entry) => entry.isFile())
      .map((entry) => path.relative(directory, path.join(entry.parentPath, entry.name)))
      .sort()
  } catch (error) {
    if (hasErrorCode(error, 'ENOENT')) {
      return []
    }
    throw error
  }
}

/** The file-system store in a scratch directory, on a clock that `elapse` moves. */
export async function makeFsHarness(): Promise<BlobStoreHarness> {
  const scratch = await mkdtemp(path.join(tmpdir(), 'imagegate-store-'))
  const root = path.join(scratch, 'blobs')
  const layout = createBlobLayout(root)
  let clockMs = Date.parse('2026-01-01T00:00:00Z')
  const streamThresholdBytes = 64 * 1024
  const store = createFsBlobStore({
    root,
    clock: { now: () => new Date(clockMs) },
    streamThresholdBytes,
  })
  return {
    store,
    streamThresholdBytes,
    storedNames: () => filesUnder(root),
    blobName: (sha256) => path.relative(root, layout.blobPath(sha256)),
    quarantinedNames: () => filesUnder(layout.quarantineDir),
    async readQuarantined(location) {
      if (path.dirname(location) !== layout.quarantineDir) {
        throw new Error(`${location} is not in ${layout.quarantineDir}`)
      }
      return new Uint8Array(await readFile(location))
    },
    async overwrite(sha256, bytes) {
      // In place (same inode), as a stray writer or corruption would change it.
      const file = layout.blobPath(sha256)
      await chmod(file, 0o644)
      await writeFile(file, bytes)
    },
    async elapse() {
      clockMs += GC_GRACE_MS + 1
    },
    dispose: () => rm(scratch, { recursive: true, force: true }),
  }
}
