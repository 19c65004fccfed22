import { createHash } from 'node:crypto'
import { fstatSync } from 'node:fs'
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import type { BlobStore } from './blob-store.ts'

/** The fsyncs the store asks for, of files and of directories; a hook run on a temp's futimes. */
const fsyncs = vi.hoisted(() => ({
  files: 0,
  directories: 0,
  onFutimes: undefined as (() => void) | undefined,
}))
vi.mock('./fd-calls.ts', async (importOriginal) => {
  const actual = await importOriginal<typeof import('./fd-calls.ts')>()
  return {
    ...actual,
    fsyncFd: (fd: number) => {
      if (fstatSync(fd).isDirectory()) {
        fsyncs.directories++
      } else {
        fsyncs.files++
      }
      return actual.fsyncFd(fd)
    },
    futimesFd: async (fd: number, atime: Date, mtime: Date) => {
      await actual.futimesFd(fd, atime, mtime)
      fsyncs.onFutimes?.()
    },
  }
})
const { createFsBlobStore } = await import('./fs-blob-store.ts')

let root: string
let store: BlobStore
beforeEach(async () => {
  root = await mkdtemp(path.join(tmpdir(), 'imagegate-put-sync-'))
  store = createFsBlobStore({ root })
  reset()
  fsyncs.onFutimes = undefined
})
const reset = () => {
  fsyncs.files = 0
  fsyncs.directories = 0
}
afterEach(async () => {
  await rm(root, { recursive: true, force: true })
})

const bytes = new TextEncoder().encode('the same bytes, twice')
const sha256 = createHash('sha256').update(bytes).digest('hex')
async function* once(part: Uint8Array) {
  yield part
}
const put = () => store.put(once(bytes), { maxBytes: 1024 })
const tempFiles = () => readdir(path.join(root, 'tmp'))

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

  it('a stored blob of the wrong size is replaced by a synced copy', async () => {
    const first = await put()
    await rm(first.path, { force: true })
    await writeFile(first.path, 'truncated')
    reset()
    const again = await put()
    expect(again.created).toBe(true)
    expect(fsyncs.files).toBe(1)
    expect(fsyncs.directories).toBeGreaterThanOrEqual(1)
    expect(new Uint8Array(await readFile(again.path))).toEqual(bytes)
  })

  it('a blob deleted between the first look and the publish is written back synced', async () => {
    await put()
    reset()
    // Deleted once the put has streamed its copy: the delete takes the digest's lock first.
    fsyncs.onFutimes = () => {
      void store.delete(sha256)
    }
    const again = await put()
    expect(again.created).toBe(true)
    expect(fsyncs.files).toBe(1)
    expect(fsyncs.directories).toBeGreaterThanOrEqual(1)
    expect(new Uint8Array(await readFile(again.path))).toEqual(bytes)
  })
})
