import { existsSync, readdirSync } from 'node:fs'
import path from 'node:path'

/** What a file-system blob store holds on disk, seen from outside it (for tests). */

function filesUnder(dir: string): string[] {
  if (!existsSync(dir)) {
    return []
  }
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => path.join(entry.parentPath, entry.name))
    .sort()
}

/** What the store under `root` holds on disk: blob files, temp files, quarantined files. */
export function storeFiles(root: string) {
  return {
    blobs: filesUnder(path.join(root, 'sha256')),
    temp: filesUnder(path.join(root, 'tmp')),
    quarantine: filesUnder(path.join(root, 'quarantine')),
  }
}

export function blobPathIn(root: string, sha256: string) {
  return path.join(root, 'sha256', sha256.slice(0, 2), sha256.slice(2, 4), sha256.slice(4))
}
