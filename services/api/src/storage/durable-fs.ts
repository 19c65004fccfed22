import { mkdir, open } from 'node:fs/promises'
import path from 'node:path'

/**
 * A rename or link is atomic but not durable until the directory holding the new entry is
 * fsynced; without it a crash can lose a blob whose row was already committed.
 */
export async function fsyncDirectory(directory: string): Promise<void> {
  const handle = await open(directory, 'r')
  try {
    await handle.sync()
  } finally {
    await handle.close()
  }
}

/**
 * mkdir -p that also makes each newly created directory's own entry durable, by fsyncing the
 * parent of every directory it created (the deepest existing ancestor included).
 */
export async function makeDirectoryDurably(directory: string): Promise<void> {
  const firstCreated = await mkdir(directory, { recursive: true })
  if (firstCreated === undefined) {
    return
  }
  let current = path.resolve(directory)
  const stopAt = path.dirname(path.resolve(firstCreated))
  while (true) {
    const parent = path.dirname(current)
    await fsyncDirectory(parent)
    if (parent === stopAt || parent === current) {
      return
    }
    current = parent
  }
}
