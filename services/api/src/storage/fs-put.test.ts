import { createHash } from 'node:crypto'
import { chmod, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { EMPTY_SHA256 } from './blob-hash.ts'
import type { BlobStore } from './blob-store.ts'
import { BlobTooLargeError, DigestMismatchError, InvalidHashError } from './errors.ts'
import { createFsBlobStore } from './fs-blob-store.ts'

let root: string
let store: BlobStore
let clockMs: number
const clock = { now: () => new Date(clockMs) }

beforeEach(async () => {
  root = await mkdtemp(path.join(tmpdir(), 'imagegate-put-'))
  clockMs = Date.parse('2026-01-01T00:00:00Z')
  store = createFsBlobStore({ root, clock })
})

afterEach(async () => {
  await rm(root, { recursive: true, force: true })
})

const sha256Of = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex')
const text = (value: string) => new TextEncoder().encode(value)

async function* chunks(...parts: Uint8Array[]) {
  for (const part of parts) {
    yield part
  }
}

async function filesUnder(directory: string): Promise<string[]> {
  const entries = await readdir(directory, { recursive: true, withFileTypes: true })
  return entries.filter((entry) => entry.isFile()).map((entry) => entry.name)
}

describe('put', () => {
  it('stores the bytes under their digest and reports what it wrote', async () => {
    const bytes = text('hello, imagegate')
    const result = await store.put(chunks(bytes.subarray(0, 5), bytes.subarray(5)), {
      maxBytes: 1024,
    })
    const sha256 = sha256Of(bytes)
    expect(result).toMatchObject({ sha256, sizeBytes: bytes.byteLength, created: true })
    expect(result.path).toBe(
      path.join(root, 'sha256', sha256.slice(0, 2), sha256.slice(2, 4), sha256.slice(4)),
    )
    expect(new Uint8Array(await readFile(result.path))).toEqual(bytes)
    expect(result.head).toEqual(bytes)
    expect(result.tail).toEqual(bytes)
    expect((await stat(result.path)).mtimeMs).toBe(clockMs)
    expect(await filesUnder(path.join(root, 'tmp'))).toEqual([])
  })

  it('hands back the first and last 4 KiB of a larger blob', async () => {
    const bytes = new Uint8Array(20_000).map((_, index) => index % 251)
    const result = await store.put(chunks(bytes.subarray(0, 7000), bytes.subarray(7000)), {
      maxBytes: 1 << 20,
    })
    expect(result.head).toEqual(bytes.subarray(0, 4096))
    expect(result.tail).toEqual(bytes.subarray(20_000 - 4096))
  })

  it('accepts a web ReadableStream', async () => {
    const bytes = text('from a web stream')
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(bytes)
        controller.close()
      },
    })
    const result = await store.put(stream, { maxBytes: 1024, expectedSha256: sha256Of(bytes) })
    expect(result.created).toBe(true)
  })

  it('stores the empty blob', async () => {
    const result = await store.put(chunks(), { maxBytes: 0, expectedSha256: EMPTY_SHA256 })
    expect(result).toMatchObject({ sha256: EMPTY_SHA256, sizeBytes: 0, created: true })
    expect(result.head.byteLength).toBe(0)
    const read = await store.openVerified(EMPTY_SHA256)
    expect(read).toMatchObject({ kind: 'bytes', sizeBytes: 0, length: 0 })
  })

  it('rejects a digest mismatch and leaves neither a temp file nor a blob', async () => {
    const expected = sha256Of(text('what the client promised'))
    const error = await store
      .put(chunks(text('what arrived')), { maxBytes: 1024, expectedSha256: expected })
      .catch((caught: unknown) => caught)
    expect(error).toBeInstanceOf(DigestMismatchError)
    expect(error).toMatchObject({ expected, actual: sha256Of(text('what arrived')) })
    expect(await filesUnder(root)).toEqual([])
  })

  it('rejects a malformed expected digest before touching the file system', async () => {
    const untouched = path.join(root, 'never-created')
    const untouchedStore = createFsBlobStore({ root: untouched })
    await expect(
      untouchedStore.put(chunks(text('x')), { maxBytes: 10, expectedSha256: '../etc/passwd' }),
    ).rejects.toThrow(InvalidHashError)
    await expect(stat(untouched)).rejects.toMatchObject({ code: 'ENOENT' })
  })

  it('stops reading an endless source as soon as it passes the limit', async () => {
    let yielded = 0
    let closed = false
    async function* endless() {
      try {
        while (true) {
          yielded += 1
          yield new Uint8Array(1024)
        }
      } finally {
        closed = true
      }
    }
    await expect(store.put(endless(), { maxBytes: 10 * 1024 })).rejects.toBeInstanceOf(
      BlobTooLargeError,
    )
    expect(yielded).toBe(11)
    expect(closed).toBe(true)
    expect(await filesUnder(root)).toEqual([])
  })

  it('accepts exactly maxBytes', async () => {
    const result = await store.put(chunks(new Uint8Array(100)), { maxBytes: 100 })
    expect(result.sizeBytes).toBe(100)
  })

  it('removes the temp file when the source fails midway', async () => {
    async function* failing() {
      yield new Uint8Array(5000)
      throw new Error('client went away')
    }
    await expect(store.put(failing(), { maxBytes: 1 << 20 })).rejects.toThrow('client went away')
    expect(await filesUnder(root)).toEqual([])
  })

  it('settles 50 concurrent puts of the same bytes into one blob, all successful', async () => {
    const bytes = new Uint8Array(64 * 1024).map((_, index) => (index * 7) % 256)
    const sha256 = sha256Of(bytes)
    const results = await Promise.all(
      Array.from({ length: 50 }, (_, index) =>
        store.put(chunks(bytes.subarray(0, 1000 + index), bytes.subarray(1000 + index)), {
          maxBytes: bytes.byteLength,
          expectedSha256: index % 2 === 0 ? sha256 : undefined,
        }),
      ),
    )
    expect(new Set(results.map((result) => result.sha256))).toEqual(new Set([sha256]))
    expect(results.filter((result) => result.created)).toHaveLength(1)
    expect(await filesUnder(path.join(root, 'sha256'))).toEqual([sha256.slice(4)])
    expect(await filesUnder(path.join(root, 'tmp'))).toEqual([])
  })

  it('refreshes the mtime of an existing blob instead of writing it again', async () => {
    const bytes = text('stored twice')
    const first = await store.put(chunks(bytes), { maxBytes: 100 })
    const inode = (await stat(first.path)).ino
    clockMs += 60_000
    const second = await store.put(chunks(bytes), { maxBytes: 100 })
    expect(second.created).toBe(false)
    const after = await stat(second.path)
    expect(after.ino).toBe(inode)
    expect(after.mtimeMs).toBe(clockMs)
  })

  it('replaces an existing blob file of the wrong size with the good bytes', async () => {
    const bytes = text('the real content')
    const first = await store.put(chunks(bytes), { maxBytes: 100 })
    await chmod(first.path, 0o644)
    await writeFile(first.path, 'short')
    const second = await store.put(chunks(bytes), { maxBytes: 100 })
    expect(second.created).toBe(true)
    expect(new Uint8Array(await readFile(second.path))).toEqual(bytes)
    expect(await readdir(path.join(root, 'quarantine'))).toHaveLength(1)
  })

  it('makes the shard directory again if it was removed from outside', async () => {
    const bytes = text('shard removed')
    const first = await store.put(chunks(bytes), { maxBytes: 100 })
    await store.delete(first.sha256)
    await rm(path.dirname(first.path), { recursive: true })
    const second = await store.put(chunks(bytes), { maxBytes: 100 })
    expect(second).toMatchObject({ created: true, path: first.path })
    expect(new Uint8Array(await readFile(second.path))).toEqual(bytes)
    expect(await filesUnder(path.join(root, 'tmp'))).toEqual([])
  })

  it('writes blobs read-only', async () => {
    const result = await store.put(chunks(text('immutable')), { maxBytes: 100 })
    expect((await stat(result.path)).mode & 0o777).toBe(0o444)
  })
})
