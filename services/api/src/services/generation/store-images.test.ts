import { afterEach, describe, expect, it } from 'vitest'
import { UpstreamFailure } from '../../providers/types.ts'
import { noisePng, sha256Hex } from '../../testing/images.ts'
import { createTestApp, type TestApp } from '../../testing/test-app.ts'
import type { CallResult } from './dispatch.ts'
import { storeImage, storeImages } from './store-images.ts'
import type { GenerationInput } from './types.ts'

let t: TestApp
afterEach(async () => {
  await t.close()
})

const input: GenerationInput = {
  prompt: 'a lighthouse at dusk',
  n: 3,
  size: '256x256',
  operation: 'generate',
  sourceTaskId: 'task-7',
}

const returned = (...images: Uint8Array[]): CallResult => ({
  images: images.map((bytes) => ({ bytes })),
  warnings: [],
})

/** A PNG cut short: its signature and header are intact, its pixels are not there. */
async function truncatedPng(seed: string) {
  const whole = await noisePng(seed, 64)
  return whole.subarray(0, Math.floor(whole.length / 2))
}

describe('storeImage', () => {
  it('stores a returned image as an asset of the month folder, described by the prompt', async () => {
    t = await createTestApp()
    const bytes = await noisePng('stored', 48)
    const image = await storeImage(
      t.deps,
      'default',
      input,
      { bytes, revisedPrompt: 'a lighthouse, revised' },
      'local',
    )
    const month = t.deps.clock.now().toISOString().slice(0, 7)
    expect(image.asset).toMatchObject({
      kind: 'image',
      contentHash: sha256Hex(bytes),
      folderPath: `/generated/images/${month}`,
      description: input.prompt,
      sourceTaskId: 'task-7',
      width: 48,
      height: 48,
    })
    expect(image.revisedPrompt).toBe('a lighthouse, revised')
    expect(image.bytes).toBe(bytes)
  })

  it("refuses a damaged image as the provider's fault, and stores no asset", async () => {
    t = await createTestApp()
    const refused = storeImage(
      t.deps,
      'default',
      input,
      { bytes: await truncatedPng('cut') },
      'openai',
    )
    await expect(refused).rejects.toBeInstanceOf(UpstreamFailure)
    await expect(refused).rejects.toMatchObject({ kind: 'bad_response', provider: 'openai' })
    expect((await t.deps.assets.list('default', {}, { limit: 10 })).data).toEqual([])
  })
})

describe('storeImages', () => {
  it('keeps the images that stored, with their indexes, and the first failure in order', async () => {
    t = await createTestApp()
    const failedCall = new UpstreamFailure('auth', 'openai', 'upstream key revoked')
    const stored = await storeImages(
      t.deps,
      'default',
      input,
      [
        returned(await truncatedPng('bad')),
        failedCall,
        returned(await noisePng('one'), await noisePng('two')),
      ],
      'openai',
    )
    expect(stored.images).toHaveLength(2)
    expect(stored.imageIndexes).toEqual([1, 2])
    expect(stored.firstFailure).toMatchObject({ kind: 'bad_response' })
  })

  it('reports a failed call first when it came before any bad image', async () => {
    t = await createTestApp()
    const failedCall = new UpstreamFailure('auth', 'openai', 'upstream key revoked')
    const stored = await storeImages(
      t.deps,
      'default',
      input,
      [failedCall, returned(await noisePng('only'))],
      'openai',
    )
    expect(stored.images.map((image) => image.asset.kind)).toEqual(['image'])
    expect(stored.imageIndexes).toEqual([0])
    expect(stored.firstFailure).toBe(failedCall)
  })
})
