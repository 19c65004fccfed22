import { constants, openSync } from 'node:fs'
import { mkdir } from 'node:fs/promises'
import path from 'node:path'
import { closeFd, fsyncFd } from './fd-calls.ts'

/**
 * A rename or link is atomic but not durable until the directory holding the new entry is
 * fsynced; without it a crash can lose a blob whose row was already committed.
 *
 * Opening and closing a directory read-only are in-memory lookups (its entry was just used),
 * done inline: as thread-pool calls they cost two round trips each time, on the one core the
 * event loop shares with the pool. The fsync waits for the disk and stays off the event loop.
 */
export async function fsyncDirectory(directory: string): Promise<void> {
  const fd = openSync(directory, constants.O_RDONLY | constants.O_DIRECTORY)
  try {
    await fsyncFd(fd)
  } finally {
    closeFd(fd)
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
