import { expect, it } from 'vitest'
import { EMPTY_SHA256 } from '../blob-hash.ts'
import type { BlobStore, PutOptions } from '../blob-store.ts'
import { BlobTooLargeError, DigestMismatchError, InvalidHashError } from '../errors.ts'
import {
  type BlobStoreHarness,
  chunks,
  contentOf,
  patterned,
  sha256Of,
  text,
} from './blob-store-harness.ts'

async function* once(value: string) {
  yield text(value)
}

/** What every store's writes promise (from the file-system store's original tests). */
export function putCases(current: () => BlobStoreHarness) {
  it.each([
    ['a traversal', `../../${'a'.repeat(58)}`],
    ['percent-encoded dots', `%2e%2e%2f${'a'.repeat(55)}`],
    ['a NUL byte', `${'a'.repeat(63)}\0`],
    ['uppercase', 'A'.repeat(64)],
    ['too short', 'abc'],
  ])('rejects %s on every method without touching storage', async (_label, bad) => {
    const { store, storedNames } = current()
    const calls: [string, () => Promise<unknown>][] = [
      ['openVerified', () => store.openVerified(bad)],
      ['stat', () => store.stat(bad)],
      ['has', () => store.has(bad)],
      ['delete', () => store.delete(bad)],
      ['quarantine', () => store.quarantine(bad)],
      ['put', () => store.put(once('x'), { maxBytes: 1, expectedSha256: bad })],
      ['putBytes', () => store.putBytes(text('x'), { maxBytes: 1, expectedSha256: bad })],
    ]
    for (const [name, call] of calls) {
      await expect(call(), name).rejects.toBeInstanceOf(InvalidHashError)
    }
    expect(await storedNames()).toEqual([])
  })

  it('stores the bytes under their digest and reports what it wrote', async () => {
    const { store, storedNames, blobName } = current()
    const bytes = text('hello, imagegate')
    const result = await store.put(chunks(bytes.subarray(0, 5), bytes.subarray(5)), {
      maxBytes: 1024,
    })
    const sha256 = sha256Of(bytes)
    expect(result).toMatchObject({ sha256, sizeBytes: bytes.byteLength, created: true })
    expect(result.head).toEqual(bytes)
    expect(result.tail).toEqual(bytes)
    expect(await contentOf(await store.openVerified(sha256))).toEqual(bytes)
    expect(await storedNames()).toEqual([blobName(sha256)])
  })

  it('answers stat and has for stored and missing blobs', async () => {
    const { store } = current()
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

  it('hands back the first and last 4 KiB of a larger blob', async () => {
    const { store } = current()
    const bytes = new Uint8Array(20_000).map((_, index) => index % 251)
    const result = await store.put(chunks(bytes.subarray(0, 7000), bytes.subarray(7000)), {
      maxBytes: 1 << 20,
    })
    expect(result.head).toEqual(bytes.subarray(0, 4096))
    expect(result.tail).toEqual(bytes.subarray(20_000 - 4096))
  })

  it('accepts a web ReadableStream', async () => {
    const { store } = current()
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
    const { store } = current()
    const result = await store.put(chunks(), { maxBytes: 0, expectedSha256: EMPTY_SHA256 })
    expect(result).toMatchObject({ sha256: EMPTY_SHA256, sizeBytes: 0, created: true })
    expect(result.head.byteLength).toBe(0)
    const read = await store.openVerified(EMPTY_SHA256)
    expect(read).toMatchObject({ kind: 'bytes', sizeBytes: 0, length: 0 })
  })

  it('rejects a digest mismatch and leaves nothing behind', async () => {
    const { store, storedNames } = current()
    const expected = sha256Of(text('what the client promised'))
    const error = await store
      .put(chunks(text('what arrived')), { maxBytes: 1024, expectedSha256: expected })
      .catch((caught: unknown) => caught)
    expect(error).toBeInstanceOf(DigestMismatchError)
    expect(error).toMatchObject({ expected, actual: sha256Of(text('what arrived')) })
    await expect(
      store.putBytes(text('what arrived'), { maxBytes: 1024, expectedSha256: expected }),
    ).rejects.toBeInstanceOf(DigestMismatchError)
    expect(await storedNames()).toEqual([])
    expect(await store.has(expected)).toBe(false)
  })

  it('stops reading an endless source as soon as it passes the limit', async () => {
    const { store, storedNames } = current()
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
    expect(await storedNames()).toEqual([])
  })

  it('accepts exactly maxBytes', async () => {
    const { store } = current()
    const result = await store.put(chunks(new Uint8Array(100)), { maxBytes: 100 })
    expect(result.sizeBytes).toBe(100)
    await expect(store.putBytes(new Uint8Array(101), { maxBytes: 100 })).rejects.toBeInstanceOf(
      BlobTooLargeError,
    )
  })

  it('leaves nothing behind when the source fails midway', async () => {
    const { store, storedNames } = current()
    async function* failing() {
      yield new Uint8Array(5000)
      throw new Error('client went away')
    }
    await expect(store.put(failing(), { maxBytes: 1 << 20 })).rejects.toThrow('client went away')
    expect(await storedNames()).toEqual([])
  })

  it('settles 50 concurrent puts of the same bytes into one blob, all successful', async () => {
    const { store, storedNames, blobName } = current()
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
    expect(await storedNames()).toEqual([blobName(sha256)])
  })

  it('refreshes a stored blob instead of reporting it new, for put and putBytes', async () => {
    const { store, elapse } = current()
    const bytes = text('stored twice')
    const first = await store.put(chunks(bytes), { maxBytes: 100 })
    const before = await store.stat(first.sha256)
    await elapse()
    const second = await store.put(chunks(bytes), { maxBytes: 100 })
    expect(second).toMatchObject({ sha256: first.sha256, created: false, path: first.path })
    const after = await store.stat(first.sha256)
    expect(after?.modifiedAt.getTime()).toBeGreaterThan(before?.modifiedAt.getTime() ?? 0)
    const third = await store.putBytes(bytes, { maxBytes: 100 })
    expect(third).toMatchObject({ created: false, head: bytes, tail: bytes })
  })

  it('stores new bytes given in memory', async () => {
    const { store, storedNames, blobName } = current()
    const bytes = patterned(10_000)
    const result = await store.putBytes(bytes, {
      maxBytes: 10_000,
      expectedSha256: sha256Of(bytes),
    })
    expect(result).toMatchObject({ sha256: sha256Of(bytes), sizeBytes: 10_000, created: true })
    expect(result.head).toEqual(bytes.subarray(0, 4096))
    expect(await contentOf(await store.openVerified(result.sha256))).toEqual(bytes)
    expect(await storedNames()).toEqual([blobName(result.sha256)])
  })

  it('replaces a stored blob of the wrong size with the good bytes, quarantining the bad one', async () => {
    const { store, overwrite, quarantinedNames } = current()
    const bytes = text('the real content')
    const first = await store.put(chunks(bytes), { maxBytes: 100 })
    await overwrite(first.sha256, text('short'))
    const second = await store.put(chunks(bytes), { maxBytes: 100 })
    expect(second.created).toBe(true)
    expect(await contentOf(await store.openVerified(first.sha256))).toEqual(bytes)
    expect(await quarantinedNames()).toHaveLength(1)
  })

  it.each([
    [
      'put',
      (store: BlobStore, bytes: Uint8Array, options: PutOptions) =>
        store.put(chunks(bytes), options),
    ],
    [
      'putBytes',
      (store: BlobStore, bytes: Uint8Array, options: PutOptions) => store.putBytes(bytes, options),
    ],
  ] as const)(
    '%s awaits beforeWrite with the digest before the blob is stored',
    async (_name, put) => {
      const { store, storedNames } = current()
      const bytes = text('pinned before it is written')
      const seen: { sha256: string; storedBefore: boolean }[] = []
      const stored = await put(store, bytes, {
        maxBytes: 100,
        beforeWrite: async (sha256) => {
          await new Promise((resolve) => setTimeout(resolve, 20))
          seen.push({ sha256, storedBefore: await store.has(sha256) })
        },
      })
      expect(seen).toEqual([{ sha256: sha256Of(bytes), storedBefore: false }])
      expect(await store.has(stored.sha256)).toBe(true)

      const refused = text('refused before it is written')
      await expect(
        put(store, refused, {
          maxBytes: 100,
          beforeWrite: async () => {
            throw new Error('no pin')
          },
        }),
      ).rejects.toThrow('no pin')
      const mismatched = text('never announced')
      let called = false
      await expect(
        put(store, mismatched, {
          maxBytes: 100,
          expectedSha256: sha256Of(refused),
          beforeWrite: async () => {
            called = true
          },
        }),
      ).rejects.toBeInstanceOf(DigestMismatchError)
      expect(called).toBe(false)
      expect(await storedNames()).toEqual([current().blobName(stored.sha256)])
    },
  )

  it('deletes a blob once', async () => {
    const { store } = current()
    const stored = await store.put(once('to delete'), { maxBytes: 100 })
    expect(await store.delete(stored.sha256)).toBe(true)
    expect(await store.delete(stored.sha256)).toBe(false)
    expect(await store.has(stored.sha256)).toBe(false)
  })

  it('quarantines a blob on request, keeping its bytes for inspection', async () => {
    const { store, readQuarantined } = current()
    const stored = await store.put(once('suspicious'), { maxBytes: 100 })
    const movedTo = await store.quarantine(stored.sha256)
    expect(movedTo).toBeDefined()
    expect(new TextDecoder().decode(await readQuarantined(movedTo ?? ''))).toBe('suspicious')
    expect(await store.has(stored.sha256)).toBe(false)
    expect(await store.quarantine(stored.sha256)).toBeUndefined()
  })
}
