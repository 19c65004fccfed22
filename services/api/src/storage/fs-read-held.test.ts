import { closeSync, openSync, writeSync } from 'node:fs'
import { chmod, mkdtemp, rename, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import type { BlobStore } from './blob-store.ts'
import { singleChunk } from './byte-source.ts'
import { BlobCorruptError, BlobNotFoundError } from './errors.ts'
import { createFsBlobStore } from './fs-blob-store.ts'

// Counts the descriptors openVerified opens; everything else about the file system is real.
const opened = vi.hoisted(() => ({ paths: [] as string[] }))
vi.mock('node:fs/promises', async (importOriginal) => {
  const actual = await importOriginal<typeof import('node:fs/promises')>()
  return {
    ...actual,
    open: (file: string, ...rest: unknown[]) => {
      opened.paths.push(file)
      return (actual.open as (...args: unknown[]) => unknown)(file, ...rest)
    },
  }
})

let root: string
let store: BlobStore

beforeEach(async () => {
  root = await mkdtemp(path.join(tmpdir(), 'imagegate-held-'))
  store = createFsBlobStore({ root, streamThresholdBytes: 64 * 1024 })
})

afterEach(async () => {
  await rm(root, { recursive: true, force: true })
})

const patterned = (size: number, seed = 0) =>
  new Uint8Array(size).map((_, index) => (index * 31 + seed) % 256)

async function putBytes(bytes: Uint8Array) {
  return store.put(singleChunk(bytes), { maxBytes: bytes.byteLength })
}

async function bytesOf(sha256: string, range?: { offset: number; length: number }) {
  const blob = await store.openVerified(sha256, range ? { range } : {})
  if (blob.kind !== 'bytes') {
    throw new Error('expected bytes')
  }
  return Buffer.from(blob.bytes)
}

const opensOf = (file: string) => opened.paths.filter((opened) => opened === file).length

describe('small hot blobs kept in memory', () => {
  it('reads the file once, then serves it and its ranges from memory while it is unchanged', async () => {
    const bytes = patterned(5000)
    const stored = await putBytes(bytes)
    expect(await bytesOf(stored.sha256)).toEqual(Buffer.from(bytes))
    expect(await bytesOf(stored.sha256)).toEqual(Buffer.from(bytes))
    expect(await bytesOf(stored.sha256, { offset: 10, length: 20 })).toEqual(
      Buffer.from(bytes.subarray(10, 30)),
    )
    expect(opensOf(stored.path)).toBe(1)
  })

  it('reads the file again once it changed, and refuses what no longer matches', async () => {
    const bytes = patterned(5000)
    const stored = await putBytes(bytes)
    await bytesOf(stored.sha256)
    await chmod(stored.path, 0o644)
    const fd = openSync(stored.path, 'r+')
    writeSync(fd, Buffer.from([0xff]), 0, 1, 100)
    closeSync(fd)
    await expect(store.openVerified(stored.sha256)).rejects.toBeInstanceOf(BlobCorruptError)
    expect(opensOf(stored.path)).toBe(2)
  })

  it('answers not found once the file is gone, and reads a replacement file afresh', async () => {
    const bytes = patterned(5000)
    const stored = await putBytes(bytes)
    await bytesOf(stored.sha256)
    const aside = path.join(root, 'aside')
    await rename(stored.path, aside)
    await expect(store.openVerified(stored.sha256)).rejects.toBeInstanceOf(BlobNotFoundError)
    // The same bytes back under the name, as another inode: verified again before it is served.
    await rename(aside, stored.path)
    await rm(stored.path)
    await putBytes(bytes)
    expect(await bytesOf(stored.sha256)).toEqual(Buffer.from(bytes))
    expect(opensOf(stored.path)).toBe(3)
  })

  it('keeps nothing when the content cache is off, and ignores it for a rehash', async () => {
    const uncached = createFsBlobStore({ root, contentCacheBytes: 0 })
    const bytes = patterned(5000, 1)
    const stored = await putBytes(bytes)
    await uncached.openVerified(stored.sha256)
    await uncached.openVerified(stored.sha256)
    expect(opensOf(stored.path)).toBe(2)
    await bytesOf(stored.sha256)
    await store.openVerified(stored.sha256, { rehash: true })
    expect(opensOf(stored.path)).toBe(4)
  })
})
