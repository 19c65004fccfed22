import { chmod, mkdtemp, open, readdir, readlink, rm, stat, utimes } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { BlobStore } from './blob-store.ts'
import { singleChunk } from './byte-source.ts'
import { BlobCorruptError } from './errors.ts'
import { createFsBlobStore } from './fs-blob-store.ts'

const STREAM_THRESHOLD = 64 * 1024

let root: string
let store: BlobStore

beforeEach(async () => {
  root = await mkdtemp(path.join(tmpdir(), 'imagegate-read-'))
  store = createFsBlobStore({ root, streamThresholdBytes: STREAM_THRESHOLD })
})

afterEach(async () => {
  await rm(root, { recursive: true, force: true })
})

const patterned = (size: number) => new Uint8Array(size).map((_, index) => (index * 31) % 256)

async function putBytes(bytes: Uint8Array) {
  return store.put(singleChunk(bytes), { maxBytes: bytes.byteLength })
}

/** How many of this process's descriptors point at the file (Linux /proc). */
async function openDescriptorsTo(file: string): Promise<number> {
  const descriptors = await readdir('/proc/self/fd')
  const targets = await Promise.all(
    descriptors.map((fd) => readlink(`/proc/self/fd/${fd}`).catch(() => '')),
  )
  return targets.filter((target) => target === file).length
}

/** Flips one byte in place, as disk corruption or a stray writer would. */
async function flipByte(file: string, position: number) {
  await chmod(file, 0o644)
  const handle = await open(file, 'r+')
  const one = Buffer.alloc(1)
  await handle.read(one, 0, 1, position)
  one[0] = (one[0] ?? 0) ^ 0xff
  await handle.write(one, 0, 1, position)
  await handle.close()
}

describe('openVerified', () => {
  it('re-verifies a blob whose file changed after it was verified once', async () => {
    const bytes = patterned(3000)
    const stored = await putBytes(bytes)
    await store.openVerified(stored.sha256)
    const before = await stat(stored.path)
    await flipByte(stored.path, 0)
    // Even with mtime put back, the inode's ctime moved, so the cached verification is void.
    await utimes(stored.path, before.atime, before.mtime)
    await expect(store.openVerified(stored.sha256)).rejects.toBeInstanceOf(BlobCorruptError)
  })

  it('closes the file when a stream is cancelled', async () => {
    // Several read chunks long, so the stream is still reading when it is cancelled.
    const stored = await putBytes(patterned(STREAM_THRESHOLD * 40))
    const blob = await store.openVerified(stored.sha256)
    if (blob.kind !== 'stream') {
      throw new Error('expected a stream')
    }
    const reader = blob.stream.getReader()
    await reader.read()
    expect(await openDescriptorsTo(stored.path)).toBe(1)
    await reader.cancel()
    expect(await openDescriptorsTo(stored.path)).toBe(0)
  })
})
