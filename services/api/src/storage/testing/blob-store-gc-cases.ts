import { expect, it } from 'vitest'
import { deferred } from '../../testing/deferred.ts'
import { singleChunk } from '../byte-source.ts'
import { type BlobStoreHarness, GC_GRACE_MS, sha256Of, text } from './blob-store-harness.ts'

/** A source that yields its first byte, then waits until released. */
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

/** What every store's GC promises (from fs-gc's original tests). */
export function gcCases(current: () => BlobStoreHarness) {
  it('deletes unreferenced blobs older than the grace period, and nothing else', async () => {
    const { store, elapse } = current()
    const old = await store.put(singleChunk(text('old, unreferenced')), { maxBytes: 100 })
    const referenced = await store.put(singleChunk(text('old, referenced')), { maxBytes: 100 })
    await elapse()
    const young = await store.put(singleChunk(text('young, unreferenced')), { maxBytes: 100 })

    const result = await store.collectGarbage({
      graceMs: GC_GRACE_MS,
      isReferenced: (sha256) => sha256 === referenced.sha256,
    })

    expect(result).toEqual({ scanned: 3, deleted: [old.sha256] })
    expect(await store.has(old.sha256)).toBe(false)
    expect(await store.has(referenced.sha256)).toBe(true)
    expect(await store.has(young.sha256)).toBe(true)
  })

  it('deletes a candidate only inside guardDelete, and keeps it when the guard refuses', async () => {
    const { store, elapse } = current()
    const refused = await store.put(singleChunk(text('the guard refuses')), { maxBytes: 100 })
    const allowed = await store.put(singleChunk(text('the guard allows')), { maxBytes: 100 })
    await elapse()
    const guarded: string[] = []
    const result = await store.collectGarbage({
      graceMs: GC_GRACE_MS,
      isReferenced: () => false,
      guardDelete: async (sha256, work) => {
        guarded.push(sha256)
        if (sha256 === refused.sha256) {
          return undefined
        }
        const present = await store.has(sha256)
        const deleted = await work()
        expect([present, await store.has(sha256)]).toEqual([true, false])
        return deleted
      },
    })
    expect(result.deleted).toEqual([allowed.sha256])
    expect(guarded.sort()).toEqual([refused.sha256, allowed.sha256].sort())
    expect(await store.has(refused.sha256)).toBe(true)
    expect(await store.has(allowed.sha256)).toBe(false)
  })

  it('keeps a blob that a put re-stored while GC was checking its references', async () => {
    const { store, elapse } = current()
    const bytes = text('re-uploaded during GC')
    const stored = await store.put(singleChunk(bytes), { maxBytes: 100 })
    await elapse()
    const lookup = deferred<boolean>()
    const askedAboutIt = deferred()
    const gc = store.collectGarbage({
      graceMs: GC_GRACE_MS,
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
    const { store, elapse } = current()
    const bytes = text('declared up front')
    const stored = await store.put(singleChunk(bytes), { maxBytes: 100 })
    await elapse()
    const upload = pausedSource(bytes)
    const put = store.put(upload.source, { maxBytes: 100, expectedSha256: stored.sha256 })
    await upload.started
    const result = await store.collectGarbage({ graceMs: GC_GRACE_MS, isReferenced: () => false })
    expect(result.deleted).toEqual([])
    upload.release()
    expect((await put).created).toBe(false)
    expect(await store.has(stored.sha256)).toBe(true)
  })

  it('lists every stored digest', async () => {
    const { store } = current()
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
}
