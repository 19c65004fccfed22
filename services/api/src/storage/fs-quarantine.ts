import { randomUUID } from 'node:crypto'
import { mkdir, rename, stat } from 'node:fs/promises'
import path from 'node:path'
import { fsyncDirectory } from './durable-fs.ts'
import { hasErrorCode } from './errno.ts'
import type { FsStoreContext } from './fs-store-context.ts'

/**
 * Moves a blob out of the store into `quarantine/` (kept for inspection, never served). The
 * caller holds the digest's lock. With `onlyIfInode`, a file that was already replaced (say by
 * a fresh upload after GC) is left alone: only the file that failed verification moves.
 */
export async function moveToQuarantine(
  context: FsStoreContext,
  sha256: string,
  onlyIfInode?: bigint,
): Promise<string | undefined> {
  const from = context.layout.blobPath(sha256)
  if (onlyIfInode !== undefined) {
    const current = await stat(from, { bigint: true }).catch((error: unknown) => {
      if (hasErrorCode(error, 'ENOENT')) {
        return undefined
      }
      throw error
    })
    if (current?.ino !== onlyIfInode) {
      return undefined
    }
  }
  await mkdir(context.layout.quarantineDir, { recursive: true })
  const stamp = context.clock.now().getTime()
  const to = path.join(
    context.layout.quarantineDir,
    `${sha256}.${stamp}.${randomUUID().slice(0, 8)}`,
  )
  try {
    await rename(from, to)
  } catch (error) {
    if (hasErrorCode(error, 'ENOENT')) {
      return undefined
    }
    throw error
  }
  context.verified.forget(sha256)
  // Without this a crash could bring the corrupt file back under its name.
  await fsyncDirectory(context.layout.shardDir(sha256))
  return to
}
