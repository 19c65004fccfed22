import { createHash } from 'node:crypto'
import { chmod, mkdtemp, open, readdir, readlink, rm, stat, utimes } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { BlobStore, VerifiedBlob } from './blob-store.ts'
import { singleChunk } from './byte-source.ts'
import { BlobCorruptError, BlobNotFoundError, RangeNotSatisfiableError } from './errors.ts'
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

async function contentOf(blob: VerifiedBlob): Promise<Uint8Array> {
  if (blob.kind === 'bytes') {
    return new Uint8Array(blob.bytes)
  }
  return new Uint8Array(await new Response(blob.stream).arrayBuffer())
}

/** Byte-wise equality without vitest's element-by-element diffing of large arrays. */
function expectSameBytes(actual: Uint8Array, expected: Uint8Array) {
  expect(actual.byteLength).toBe(expected.byteLength)
  expect(Buffer.compare(actual, expected)).toBe(0)
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
  it('returns a small blob as bytes', async () => {
    const bytes = patterned(1000)
    const { sha256 } = await putBytes(bytes)
    const blob = await store.openVerified(sha256)
    expect(blob).toMatchObject({ kind: 'bytes', sha256, sizeBytes: 1000, offset: 0, length: 1000 })
    expectSameBytes(await contentOf(blob), bytes)
  })

  it('streams a large blob', async () => {
    const bytes = patterned(STREAM_THRESHOLD * 5 + 17)
    const { sha256 } = await putBytes(bytes)
    const blob = await store.openVerified(sha256)
    expect(blob.kind).toBe('stream')
    expectSameBytes(await contentOf(blob), bytes)
  })

  it.each([
    ['small', 1000],
    ['large', STREAM_THRESHOLD * 3],
  ])('serves byte ranges of a %s blob, verified or already cached', async (_label, size) => {
    const bytes = patterned(size)
    const { sha256 } = await putBytes(bytes)
    for (let pass = 0; pass < 2; pass++) {
      const middle = await store.openVerified(sha256, { range: { offset: 10, length: 100 } })
      expect(middle).toMatchObject({ offset: 10, length: 100, sizeBytes: size })
      expectSameBytes(await contentOf(middle), bytes.subarray(10, 110))
      const suffix = await store.openVerified(sha256, { range: { suffixLength: 7 } })
      expectSameBytes(await contentOf(suffix), bytes.subarray(size - 7))
      const rest = await store.openVerified(sha256, { range: { offset: size - 3 } })
      expectSameBytes(await contentOf(rest), bytes.subarray(size - 3))
    }
    await expect(store.openVerified(sha256, { range: { offset: size } })).rejects.toBeInstanceOf(
      RangeNotSatisfiableError,
    )
  })

  it('reports a missing blob', async () => {
    await expect(store.openVerified('f'.repeat(64))).rejects.toBeInstanceOf(BlobNotFoundError)
  })

  it.each([
    ['small', 2000],
    ['large', STREAM_THRESHOLD * 2],
  ])('never returns a corrupt %s blob: it is quarantined and reported', async (_label, size) => {
    const bytes = patterned(size)
    const stored = await putBytes(bytes)
    await flipByte(stored.path, size - 1)
    const error = await store.openVerified(stored.sha256).catch((caught: unknown) => caught)
    expect(error).toBeInstanceOf(BlobCorruptError)
    const corrupt = error as BlobCorruptError
    expect(corrupt.sha256).toBe(stored.sha256)
    expect(corrupt.actualSha256).not.toBe(stored.sha256)
    expect(corrupt.quarantinedTo).toBeDefined()
    expect(path.dirname(corrupt.quarantinedTo ?? '')).toBe(path.join(root, 'quarantine'))
    expect(await store.has(stored.sha256)).toBe(false)
    await expect(store.openVerified(stored.sha256)).rejects.toBeInstanceOf(BlobNotFoundError)

    const again = await putBytes(bytes)
    expect(again.created).toBe(true)
    expectSameBytes(await contentOf(await store.openVerified(stored.sha256)), bytes)
  })

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

  it('hashes again when asked to, even for a cached blob', async () => {
    const bytes = patterned(3000)
    const stored = await putBytes(bytes)
    await store.openVerified(stored.sha256)
    const blob = await store.openVerified(stored.sha256, { rehash: true })
    expectSameBytes(await contentOf(blob), bytes)
  })

  it('serves the empty blob', async () => {
    const stored = await putBytes(new Uint8Array(0))
    expect(stored.sha256).toBe(createHash('sha256').digest('hex'))
    const blob = await store.openVerified(stored.sha256)
    expectSameBytes(await contentOf(blob), new Uint8Array(0))
    await expect(
      store.openVerified(stored.sha256, { range: { suffixLength: 1 } }),
    ).rejects.toBeInstanceOf(RangeNotSatisfiableError)
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
