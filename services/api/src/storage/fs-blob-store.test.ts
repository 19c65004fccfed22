import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { BlobStore } from './blob-store.ts'
import { InvalidHashError } from './errors.ts'
import { createFsBlobStore } from './fs-blob-store.ts'

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
  it.each([
    ['a traversal', `../../${'a'.repeat(58)}`],
    ['percent-encoded dots', `%2e%2e%2f${'a'.repeat(55)}`],
    ['a NUL byte', `${'a'.repeat(63)}\0`],
    ['uppercase', 'A'.repeat(64)],
    ['too short', 'abc'],
  ])('rejects %s on every method without touching the file system', async (_label, bad) => {
    const calls: [string, () => Promise<unknown>][] = [
      ['openVerified', () => store.openVerified(bad)],
      ['stat', () => store.stat(bad)],
      ['has', () => store.has(bad)],
      ['delete', () => store.delete(bad)],
      ['quarantine', () => store.quarantine(bad)],
      ['put', () => store.put(once('x'), { maxBytes: 1, expectedSha256: bad })],
    ]
    for (const [name, call] of calls) {
      await expect(call(), name).rejects.toBeInstanceOf(InvalidHashError)
    }
    expect(await readdir(scratch)).toEqual([])
  })

  it('answers stat and has for stored and missing blobs', async () => {
    const stored = await store.put(once('present'), { maxBytes: 100 })
    expect(await store.has(stored.sha256)).toBe(true)
    expect(await store.stat(stored.sha256)).toMatchObject({
      sha256: stored.sha256,
      sizeBytes: 7,
      path: stored.path,
    })
    expect(await store.has('0'.repeat(64))).toBe(false)
    expect(await store.stat('0'.repeat(64))).toBeUndefined()
  })

  it('deletes a blob once', async () => {
    const stored = await store.put(once('to delete'), { maxBytes: 100 })
    expect(await store.delete(stored.sha256)).toBe(true)
    expect(await store.delete(stored.sha256)).toBe(false)
    expect(await store.has(stored.sha256)).toBe(false)
  })

  it('quarantines a blob on request, keeping its bytes for inspection', async () => {
    const stored = await store.put(once('suspicious'), { maxBytes: 100 })
    const movedTo = await store.quarantine(stored.sha256)
    expect(movedTo).toBeDefined()
    expect(path.dirname(movedTo ?? '')).toBe(path.join(scratch, 'blobs', 'quarantine'))
    expect(await readFile(movedTo ?? '', 'utf8')).toBe('suspicious')
    expect(await store.has(stored.sha256)).toBe(false)
    expect(await store.quarantine(stored.sha256)).toBeUndefined()
  })

  it('creates its directories on first use', async () => {
    await store.sweepTempFiles(0)
    for (const directory of ['sha256', 'tmp', 'quarantine']) {
      expect((await stat(path.join(scratch, 'blobs', directory))).isDirectory()).toBe(true)
    }
  })
})
