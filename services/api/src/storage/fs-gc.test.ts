import { createHash } from 'node:crypto'
import { mkdir, mkdtemp, readdir, rm, utimes, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { deferred } from '../testing/deferred.ts'
import type { BlobStore } from './blob-store.ts'
import { singleChunk } from './byte-source.ts'
import { createFsBlobStore } from './fs-blob-store.ts'

const GRACE_MS = 60 * 60 * 1000

let root: string
let store: BlobStore
let clockMs: number

beforeEach(async () => {
  root = await mkdtemp(path.join(tmpdir(), 'imagegate-gc-'))
  clockMs = Date.parse('2026-01-01T00:00:00Z')
  store = createFsBlobStore({ root, clock: { now: () => new Date(clockMs) } })
})

afterEach(async () => {
  await rm(root, { recursive: true, force: true })
})

const text = (value: string) => new TextEncoder().encode(value)
const sha256Of = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex')

/** A source that yields its first half, then waits until released. */
function pausedSource(bytes: Uint8Array) {
  const started = deferred()
  const release = deferred()
  async function* source() {
    yield bytes.subarray(0, 1)
    started.resolve()
    await release.promise
    yield bytes.subarray(1)
  }
  return { source: source(), started: started.promise, release: () => release.resolve() }
}

describe('collectGarbage', () => {
  it('deletes unreferenced blobs older than the grace period, and nothing else', async () => {
    const old = await store.put(singleChunk(text('old, unreferenced')), { maxBytes: 100 })
    const referenced = await store.put(singleChunk(text('old, referenced')), { maxBytes: 100 })
    clockMs += GRACE_MS + 1
    const young = await store.put(singleChunk(text('young, unreferenced')), { maxBytes: 100 })

    const result = await store.collectGarbage({
      graceMs: GRACE_MS,
      isReferenced: (sha256) => sha256 === referenced.sha256,
    })

    expect(result).toEqual({ scanned: 3, deleted: [old.sha256] })
    expect(await store.has(old.sha256)).toBe(false)
    expect(await store.has(referenced.sha256)).toBe(true)
    expect(await store.has(young.sha256)).toBe(true)
  })

  it('keeps a blob that a put re-stored while GC was checking its references', async () => {
    const bytes = text('re-uploaded during GC')
    const stored = await store.put(singleChunk(bytes), { maxBytes: 100 })
    clockMs += GRACE_MS + 1
    const lookup = deferred<boolean>()
    const askedAboutIt = deferred()
    const gc = store.collectGarbage({
      graceMs: GRACE_MS,
      isReferenced: () => {
        askedAboutIt.resolve()
        return lookup.promise
      },
    })
    await askedAboutIt.promise
    const again = await store.put(singleChunk(bytes), { maxBytes: 100 })
    expect(again.created).toBe(false)
    lookup.resolve(false)
    expect((await gc).deleted).toEqual([])
    expect(await store.has(stored.sha256)).toBe(true)
  })

  it('never deletes the blob an in-progress put declared it is writing', async () => {
    const bytes = text('declared up front')
    const stored = await store.put(singleChunk(bytes), { maxBytes: 100 })
    clockMs += GRACE_MS + 1
    const upload = pausedSource(bytes)
    const put = store.put(upload.source, { maxBytes: 100, expectedSha256: stored.sha256 })
    await upload.started
    const result = await store.collectGarbage({ graceMs: GRACE_MS, isReferenced: () => false })
    expect(result.deleted).toEqual([])
    upload.release()
    expect((await put).created).toBe(false)
    expect(await store.has(stored.sha256)).toBe(true)
  })

  it('ignores files under sha256/ that are not blobs', async () => {
    const stray = path.join(root, 'sha256', 'ab', 'cd', 'not-a-blob')
    await mkdir(path.dirname(stray), { recursive: true })
    await writeFile(stray, 'x')
    await utimes(stray, new Date(0), new Date(0))
    const result = await store.collectGarbage({ graceMs: 0, isReferenced: () => false })
    expect(result).toEqual({ scanned: 0, deleted: [] })
    expect(await readdir(path.dirname(stray))).toEqual(['not-a-blob'])
  })

  it('lists every stored digest', async () => {
    const hashes = await Promise.all(
      ['a', 'b', 'c'].map(
        async (value) => (await store.put(singleChunk(text(value)), { maxBytes: 1 })).sha256,
      ),
    )
    const listed: string[] = []
    for await (const sha256 of store.listHashes()) {
      listed.push(sha256)
    }
    expect(listed.sort()).toEqual([...hashes].sort())
    expect(hashes).toContain(sha256Of(text('a')))
  })
})

describe('sweepTempFiles', () => {
  it('removes stale temp files but not fresh ones or those of puts in progress', async () => {
    await store.sweepTempFiles(0)
    const tmp = path.join(root, 'tmp')
    const stale = path.join(tmp, 'crashed.part')
    const fresh = path.join(tmp, 'recent.part')
    await writeFile(stale, 'left by a crash')
    await utimes(stale, new Date(clockMs - 2 * GRACE_MS), new Date(clockMs - 2 * GRACE_MS))
    await writeFile(fresh, 'just started')
    await utimes(fresh, new Date(clockMs), new Date(clockMs))

    const upload = pausedSource(text('still uploading'))
    const put = store.put(upload.source, { maxBytes: 100 })
    await upload.started
    const activeTemp = (await readdir(tmp)).find(
      (name) => name !== 'crashed.part' && name !== 'recent.part',
    )
    await utimes(path.join(tmp, activeTemp ?? ''), new Date(0), new Date(0))

    expect(await store.sweepTempFiles(GRACE_MS)).toBe(1)
    expect((await readdir(tmp)).sort()).toEqual([activeTemp, 'recent.part'].sort())
    upload.release()
    await put
    expect(await readdir(tmp)).toEqual(['recent.part'])
  })
})
