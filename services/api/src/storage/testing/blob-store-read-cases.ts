import { expect, it } from 'vitest'
import type { BlobStore } from '../blob-store.ts'
import { singleChunk } from '../byte-source.ts'
import { BlobCorruptError, BlobNotFoundError, RangeNotSatisfiableError } from '../errors.ts'
import {
  type BlobStoreHarness,
  contentOf,
  flipped,
  patterned,
  sha256Of,
} from './blob-store-harness.ts'

/** Byte-wise equality without vitest's element-by-element diffing of large arrays. */
function expectSameBytes(actual: Uint8Array, expected: Uint8Array) {
  expect(actual.byteLength).toBe(expected.byteLength)
  expect(Buffer.compare(actual, expected)).toBe(0)
}

function putBytes(store: BlobStore, bytes: Uint8Array) {
  return store.put(singleChunk(bytes), { maxBytes: bytes.byteLength })
}

/** What every store's reads promise: only verified bytes, ever (from fs-read's original tests). */
export function readCases(current: () => BlobStoreHarness) {
  it('returns a small blob as bytes', async () => {
    const { store } = current()
    const bytes = patterned(1000)
    const { sha256 } = await putBytes(store, bytes)
    const blob = await store.openVerified(sha256)
    expect(blob).toMatchObject({ kind: 'bytes', sha256, sizeBytes: 1000, offset: 0, length: 1000 })
    expectSameBytes(await contentOf(blob), bytes)
  })

  it('streams a large blob', async () => {
    const { store, streamThresholdBytes } = current()
    const bytes = patterned(streamThresholdBytes * 5 + 17)
    const { sha256 } = await putBytes(store, bytes)
    const blob = await store.openVerified(sha256)
    expect(blob.kind).toBe('stream')
    expectSameBytes(await contentOf(blob), bytes)
  })

  it.each([
    ['small', 1000],
    ['large', 3],
  ])('serves byte ranges of a %s blob, verified or already cached', async (label, size) => {
    const { store, streamThresholdBytes } = current()
    const length = label === 'small' ? size : streamThresholdBytes * size
    const bytes = patterned(length)
    const { sha256 } = await putBytes(store, bytes)
    for (let pass = 0; pass < 2; pass++) {
      const middle = await store.openVerified(sha256, { range: { offset: 10, length: 100 } })
      expect(middle).toMatchObject({ offset: 10, length: 100, sizeBytes: length })
      expectSameBytes(await contentOf(middle), bytes.subarray(10, 110))
      const suffix = await store.openVerified(sha256, { range: { suffixLength: 7 } })
      expectSameBytes(await contentOf(suffix), bytes.subarray(length - 7))
      const rest = await store.openVerified(sha256, { range: { offset: length - 3 } })
      expectSameBytes(await contentOf(rest), bytes.subarray(length - 3))
    }
    await expect(store.openVerified(sha256, { range: { offset: length } })).rejects.toBeInstanceOf(
      RangeNotSatisfiableError,
    )
  })

  it('reports a missing blob', async () => {
    const { store } = current()
    await expect(store.openVerified('f'.repeat(64))).rejects.toBeInstanceOf(BlobNotFoundError)
  })

  it.each([
    ['small', 2000],
    ['large', 2],
  ])('never returns a corrupt %s blob: it is quarantined and reported', async (label, size) => {
    const { store, streamThresholdBytes, overwrite, readQuarantined } = current()
    const length = label === 'small' ? size : streamThresholdBytes * size
    const bytes = patterned(length)
    const stored = await putBytes(store, bytes)
    const corrupted = flipped(bytes, length - 1)
    await overwrite(stored.sha256, corrupted)
    const error = await store.openVerified(stored.sha256).catch((caught: unknown) => caught)
    expect(error).toBeInstanceOf(BlobCorruptError)
    const corrupt = error as BlobCorruptError
    expect(corrupt.sha256).toBe(stored.sha256)
    expect(corrupt.actualSha256).toBe(sha256Of(corrupted))
    expect(corrupt.quarantinedTo).toBeDefined()
    expectSameBytes(await readQuarantined(corrupt.quarantinedTo ?? ''), corrupted)
    expect(await store.has(stored.sha256)).toBe(false)
    await expect(store.openVerified(stored.sha256)).rejects.toBeInstanceOf(BlobNotFoundError)

    const again = await putBytes(store, bytes)
    expect(again.created).toBe(true)
    expectSameBytes(await contentOf(await store.openVerified(stored.sha256)), bytes)
  })

  it.each([
    ['small', 3000],
    ['large', 2],
  ])(
    're-verifies a %s blob whose content changed after it was verified once',
    async (label, size) => {
      const { store, streamThresholdBytes, overwrite } = current()
      const length = label === 'small' ? size : streamThresholdBytes * size
      const bytes = patterned(length)
      const stored = await putBytes(store, bytes)
      await contentOf(await store.openVerified(stored.sha256))
      await overwrite(stored.sha256, flipped(bytes, 0))
      await expect(
        store.openVerified(stored.sha256, { range: { offset: 0, length: 10 } }),
      ).rejects.toBeInstanceOf(BlobCorruptError)
    },
  )

  it('hashes again when asked to, even for a cached blob', async () => {
    const { store } = current()
    const bytes = patterned(3000)
    const stored = await putBytes(store, bytes)
    await store.openVerified(stored.sha256)
    const blob = await store.openVerified(stored.sha256, { rehash: true })
    expectSameBytes(await contentOf(blob), bytes)
  })

  it('serves the empty blob', async () => {
    const { store } = current()
    const stored = await putBytes(store, new Uint8Array(0))
    expect(stored.sha256).toBe(sha256Of(new Uint8Array(0)))
    const blob = await store.openVerified(stored.sha256)
    expectSameBytes(await contentOf(blob), new Uint8Array(0))
    await expect(
      store.openVerified(stored.sha256, { range: { suffixLength: 1 } }),
    ).rejects.toBeInstanceOf(RangeNotSatisfiableError)
  })
}
