import { mkdir, mkdtemp, readdir, rm, utimes, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { deferred } from '../testing/deferred.ts'
import type { BlobStore } from './blob-store.ts'
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
  it('ignores files under sha256/ that are not blobs', async () => {
    const stray = path.join(root, 'sha256', 'ab', 'cd', 'not-a-blob')
    await mkdir(path.dirname(stray), { recursive: true })
    await writeFile(stray, 'x')
    await utimes(stray, new Date(0), new Date(0))
    const result = await store.collectGarbage({ graceMs: 0, isReferenced: () => false })
    expect(result).toEqual({ scanned: 0, deleted: [] })
    expect(await readdir(path.dirname(stray))).toEqual(['not-a-blob'])
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
