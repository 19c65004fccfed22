import { mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { BlobStore } from './blob-store.ts'
import { InvalidHashError } from './errors.ts'
import { createFsBlobStore } from './fs-blob-store.ts'
import { describeBlobStore } from './testing/describe-blob-store.ts'
import { makeFsHarness } from './testing/fs-harness.ts'

describeBlobStore('file system', makeFsHarness)

let scratch: string
let store: BlobStore

beforeEach(async () => {
  scratch = await mkdtemp(path.join(tmpdir(), 'imagegate-store-'))
  store = createFsBlobStore({ root: path.join(scratch, 'blobs') })
})

afterEach(async () => {
  await rm(scratch, { recursive: true, force: true })
})

async function* once(value: string) {
  yield new TextEncoder().encode(value)
}

describe('createFsBlobStore', () => {
  it('rejects a bad digest without even creating its root directory', async () => {
    const bad = `../../${'a'.repeat(58)}`
    await expect(store.openVerified(bad)).rejects.toBeInstanceOf(InvalidHashError)
    await expect(store.put(once('x'), { maxBytes: 1, expectedSha256: bad })).rejects.toBeInstanceOf(
      InvalidHashError,
    )
    expect(await readdir(scratch)).toEqual([])
  })

  it('quarantines into quarantine/ under its root', async () => {
    const stored = await store.put(once('suspicious'), { maxBytes: 100 })
    const movedTo = await store.quarantine(stored.sha256)
    expect(path.dirname(movedTo ?? '')).toBe(path.join(scratch, 'blobs', 'quarantine'))
  })

  it('creates its directories on first use', async () => {
    await store.sweepTempFiles(0)
    for (const directory of ['sha256', 'tmp', 'quarantine']) {
      expect((await stat(path.join(scratch, 'blobs', directory))).isDirectory()).toBe(true)
    }
  })

  it('passes its probe once its directories exist, and fails it when they cannot be used', async () => {
    await expect(store.probe()).resolves.toBeUndefined()
    expect((await stat(path.join(scratch, 'blobs', 'sha256'))).isDirectory()).toBe(true)
    // A file where the blob directory belongs: no process can use it, root included.
    await rm(path.join(scratch, 'blobs', 'sha256'), { recursive: true })
    await writeFile(path.join(scratch, 'blobs', 'sha256'), 'not a directory')
    await expect(store.probe()).rejects.toThrow()
  })
})
