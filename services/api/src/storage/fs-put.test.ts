import { createHash } from 'node:crypto'
import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { BlobStore } from './blob-store.ts'
import { InvalidHashError } from './errors.ts'
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

  it('rejects a malformed expected digest before touching the file system', async () => {
    const untouched = path.join(root, 'never-created')
    const untouchedStore = createFsBlobStore({ root: untouched })
    await expect(
      untouchedStore.put(chunks(text('x')), { maxBytes: 10, expectedSha256: '../etc/passwd' }),
    ).rejects.toThrow(InvalidHashError)
    await expect(stat(untouched)).rejects.toMatchObject({ code: 'ENOENT' })
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
