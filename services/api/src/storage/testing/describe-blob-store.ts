import { afterEach, beforeEach, describe } from 'vitest'
import { gcCases } from './blob-store-gc-cases.ts'
import type { BlobStoreHarness, MakeHarness } from './blob-store-harness.ts'
import { putCases } from './blob-store-put-cases.ts'
import { readCases } from './blob-store-read-cases.ts'

export { type BlobStoreHarness, GC_GRACE_MS, type MakeHarness } from './blob-store-harness.ts'

/**
 * The BlobStore contract as one suite that every backend must pass (the file system, S3):
 * writes, verified reads, quarantine and GC. Each case gets a fresh harness; what only one
 * backend can show (file modes, descriptors, key layout) stays in that backend's own tests.
 */
export function describeBlobStore(name: string, makeHarness: MakeHarness) {
  describe(`BlobStore contract: ${name}`, () => {
    let harness: BlobStoreHarness | undefined
    const current = () => {
      if (harness === undefined) {
        throw new Error('no harness: the beforeEach hook failed')
      }
      return harness
    }
    beforeEach(async () => {
      harness = await makeHarness()
    })
    afterEach(async () => {
      await harness?.dispose()
      harness = undefined
    })
    describe('put', () => putCases(current))
    describe('openVerified', () => readCases(current))
    describe('collectGarbage', () => gcCases(current))
  })
}
