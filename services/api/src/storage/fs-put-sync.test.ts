import { createHash } from 'node:crypto'
import { fstatSync, mkdirSync, statSync } from 'node:fs'
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import type { BlobStore, PutResult } from './blob-store.ts'
import { singleChunk } from './byte-source.ts'

/** The fsyncs the store asks for, of files and of directories; a hook run on a temp's futimes. */
const fsyncs = vi.hoisted(() => ({
  files: 0,
  directories: 0,
  /** Background data flushes of a file still being written. */
  early: 0,
  /** Files (temp files) opened for writing. */
  opens: 0,
  earlyFailure: undefined as Error | undefined,
  onFutimes: undefined as (() => void) | undefined,
  /** A directory whose fsyncs wait for `release`; `reached` is called when one does. */
  held: undefined as { ino: number; release: Promise<void>; reached: () => void } | undefined,
}))
vi.mock('./fd-calls.ts', async (importOriginal) => {
  const actual = await importOriginal<typeof import('./fd-calls.ts')>()
  return {
    ...actual,
    fsyncFd: async (fd: number) => {
      const stats = fstatSync(fd)
      if (stats.isDirectory()) {
        fsyncs.directories++
      } else {
        fsyncs.files++
      }
      if (fsyncs.held && stats.ino === fsyncs.held.ino) {
        fsyncs.held.reached()
        await fsyncs.held.release
      }
      return actual.fsyncFd(fd)
    },
    openFd: async (...args: Parameters<typeof actual.openFd>) => {
      fsyncs.opens++
      return actual.openFd(...args)
    },
    fdatasyncFd: async (fd: number) => {
      fsyncs.early++
      if (fsyncs.earlyFailure) {
        throw fsyncs.earlyFailure
      }
      return actual.fdatasyncFd(fd)
    },
    futimesFd: async (fd: number, atime: Date, mtime: Date) => {
      await actual.futimesFd(fd, atime, mtime)
      fsyncs.onFutimes?.()
    },
  }
})
const { createFsBlobStore } = await import('./fs-blob-store.ts')
const { EARLY_FLUSH_BYTES } = await import('./stream-into-file.ts')

let root: string
let store: BlobStore
beforeEach(async () => {
  root = await mkdtemp(path.join(tmpdir(), 'imagegate-put-sync-'))
  store = createFsBlobStore({ root })
  reset()
  fsyncs.onFutimes = undefined
  fsyncs.earlyFailure = undefined
  fsyncs.held = undefined
})
const reset = () => {
  fsyncs.files = 0
  fsyncs.directories = 0
  fsyncs.early = 0
  fsyncs.opens = 0
}
afterEach(async () => {
  await rm(root, { recursive: true, force: true })
})

const bytes = new TextEncoder().encode('the same bytes, twice')
const sha256 = createHash('sha256').update(bytes).digest('hex')
const put = () => store.put(singleChunk(bytes), { maxBytes: 1024 })
const tempFiles = () => readdir(path.join(root, 'tmp'))

/** A put that found no good copy stored: its own was published, file and directory synced. */
async function expectWrittenBackSynced(stored: PutResult) {
  expect(stored.created).toBe(true)
  expect(fsyncs.files).toBe(1)
  expect(fsyncs.directories).toBeGreaterThanOrEqual(1)
  expect(new Uint8Array(await readFile(stored.path))).toEqual(bytes)
}

describe('fsyncs of a put', () => {
  it('new bytes: the file and its directory are synced', async () => {
    expect((await put()).created).toBe(true)
    expect(fsyncs.files).toBe(1)
    // The shard directory after the rename, and the parents of the directories made for it.
    expect(fsyncs.directories).toBeGreaterThanOrEqual(1)
  })

  it('bytes already stored: nothing is synced, the copy is dropped', async () => {
    await put()
    reset()
    const again = await put()
    expect(again.created).toBe(false)
    expect(fsyncs).toMatchObject({ files: 0, directories: 0 })
    expect(await tempFiles()).toEqual([])
  })

  it.each([
    ['a streamed put', () => put()],
    ['a put of bytes in memory', () => store.putBytes(bytes, { maxBytes: 1024 })],
  ])('%s replaces a stored blob of the wrong size with a synced copy', async (_kind, putAgain) => {
    const first = await put()
    await rm(first.path, { force: true })
    await writeFile(first.path, 'truncated')
    reset()
    await expectWrittenBackSynced(await putAgain())
  })

  it('a blob deleted between the first look and the publish is written back synced', async () => {
    await put()
    reset()
    // Deleted once the put has streamed its copy: the delete takes the digest's lock first.
    fsyncs.onFutimes = () => {
      void store.delete(sha256)
    }
    await expectWrittenBackSynced(await put())
  })

  it('a large put flushes its data while it is still arriving, then syncs the rest', async () => {
    const large = Buffer.alloc(EARLY_FLUSH_BYTES * 2 + 1000, 'imagegate')
    async function* pieces() {
      for (let offset = 0; offset < large.byteLength; offset += 64 * 1024) {
        yield large.subarray(offset, offset + 64 * 1024)
      }
    }
    const stored = await store.put(pieces(), { maxBytes: large.byteLength })
    expect(stored.created).toBe(true)
    expect(fsyncs.early).toBeGreaterThanOrEqual(1)
    expect(fsyncs.files).toBe(1)
    expect((await readFile(stored.path)).equals(large)).toBe(true)
    reset()
    await put()
    expect(fsyncs.early).toBe(0)
  })

  it('a failed background flush fails the put and leaves no temp file', async () => {
    fsyncs.earlyFailure = Object.assign(new Error('EIO: i/o error'), { code: 'EIO' })
    const large = new Uint8Array(EARLY_FLUSH_BYTES + 1)
    await expect(store.put(singleChunk(large), { maxBytes: large.byteLength })).rejects.toThrow(
      'EIO',
    )
    expect(await tempFiles()).toEqual([])
    expect(await readdir(path.join(root, 'sha256')).catch(() => [])).toEqual([])
  })

  it('puts into one new shard directory all wait until its entry is durable', async () => {
    // Two contents whose digests share a shard directory (`ab/cd`): a birthday search.
    const seen = new Map<string, Uint8Array>()
    let pair: [Uint8Array, Uint8Array] | undefined
    for (let index = 0; pair === undefined; index++) {
      const content = new TextEncoder().encode(`content ${index}`)
      const shard = createHash('sha256').update(content).digest('hex').slice(0, 4)
      const earlier = seen.get(shard)
      if (earlier) {
        pair = [earlier, content]
      }
      seen.set(shard, content)
    }
    const shard = createHash('sha256').update(pair[0]).digest('hex')
    // The first level (`ab`) exists; its fsync, which makes the new `ab/cd` entry durable, is held.
    const parent = path.join(root, 'sha256', shard.slice(0, 2))
    mkdirSync(parent, { recursive: true })
    let release = () => {}
    let reached = () => {}
    const fsyncReached = new Promise<void>((resolve) => {
      reached = resolve
    })
    fsyncs.held = {
      ino: statSync(parent).ino,
      release: new Promise<void>((resolve) => {
        release = resolve
      }),
      reached,
    }
    const settled: number[] = []
    const puts = pair.map((content, index) =>
      store.put(singleChunk(content), { maxBytes: 1024 }).then((stored) => {
        settled.push(index)
        return stored
      }),
    )
    await fsyncReached
    // Time for either put to finish, were it not waiting for the held fsync.
    await new Promise((resolve) => setTimeout(resolve, 200))
    expect(settled).toEqual([])
    expect(await readdir(path.join(parent, shard.slice(2, 4)))).toEqual([])
    release()
    const stored = await Promise.all(puts)
    expect(stored.map((each) => each.created)).toEqual([true, true])
    expect(new Set(stored.map((each) => path.dirname(each.path))).size).toBe(1)
  })
})

describe('a put of bytes in memory', () => {
  const putBytes = (content = bytes, options: { expectedSha256?: string } = {}) =>
    store.putBytes(content, { maxBytes: 1024, ...options })

  it('new bytes: written, synced and published like any put, with their edges', async () => {
    const stored = await putBytes()
    expect(stored).toMatchObject({ sha256, sizeBytes: bytes.byteLength, created: true })
    expect(stored.head).toEqual(bytes)
    expect(stored.tail).toEqual(bytes)
    expect(fsyncs.files).toBe(1)
    expect(fsyncs.directories).toBeGreaterThanOrEqual(1)
    expect(new Uint8Array(await readFile(stored.path))).toEqual(bytes)
    expect(await tempFiles()).toEqual([])
  })

  it('bytes already stored: no file is opened or synced, and the blob is refreshed', async () => {
    const clock = { now: () => new Date('2031-01-02T03:04:05Z') }
    store = createFsBlobStore({ root, clock })
    await put()
    reset()
    clock.now = () => new Date('2031-06-07T08:09:10Z')
    const again = await putBytes()
    expect(again).toMatchObject({ sha256, created: false, head: bytes, tail: bytes })
    expect(fsyncs).toMatchObject({ opens: 0, files: 0, directories: 0 })
    expect(statSync(again.path).mtime).toEqual(new Date('2031-06-07T08:09:10Z'))
  })

  it('refuses bytes over the limit or unlike their expected digest, writing nothing', async () => {
    await expect(store.putBytes(bytes, { maxBytes: bytes.byteLength - 1 })).rejects.toMatchObject({
      name: 'BlobTooLargeError',
    })
    await expect(putBytes(bytes, { expectedSha256: 'a'.repeat(64) })).rejects.toMatchObject({
      name: 'DigestMismatchError',
    })
    expect(fsyncs.opens).toBe(0)
    expect(await readdir(path.join(root, 'sha256')).catch(() => [])).toEqual([])
  })
})
