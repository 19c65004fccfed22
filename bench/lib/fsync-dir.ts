import { open } from 'node:fs/promises'

/** Makes a directory's entries durable (after a rename or a new entry in it). */
export async function fsyncDir(dir: string) {
  const handle = await open(dir, 'r')
  try {
    await handle.sync()
  } finally {
    await handle.close()
  }
}
