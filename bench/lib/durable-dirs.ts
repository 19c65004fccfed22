import { mkdir, open } from 'node:fs/promises'
import path from 'node:path'

/** Makes a directory's entries durable (after a rename or a new entry in it). */
export async function fsyncDir(dir: string) {
  const handle = await open(dir, 'r')
  try {
    await handle.sync()
  } finally {
    await handle.close()
  }
}

/**
 * mkdir -p that makes each directory it created durable too: a new directory's entry lives in
 * its parent, so the parents are fsynced, from the deepest up to that of the first one created.
 */
export async function makeDirDurably(dir: string): Promise<void> {
  const created = await mkdir(dir, { recursive: true })
  if (created === undefined) {
    return
  }
  for (let current = dir; ; current = path.dirname(current)) {
    await fsyncDir(path.dirname(current))
    if (current === created) {
      return
    }
  }
}

/** Where a blob goes, as the store lays it out: `<root>/ab/cd/<rest of the sha256>`. */
export function blobPlace(root: string, sha256: string) {
  const shardDir = path.join(root, sha256.slice(0, 2), sha256.slice(2, 4))
  return { shardDir, blobPath: path.join(shardDir, sha256.slice(4)) }
}
