import { createHash } from 'node:crypto'
import sharp from 'sharp'
import { describe, expect, it } from 'vitest'
import { createLocalProvider } from '../local.ts'
import { type GenerateImagesRequest, UpstreamFailure } from '../types.ts'

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex')

const request = (overrides: Partial<GenerateImagesRequest> = {}): GenerateImagesRequest => ({
  upstreamModel: 'local-sketch',
  prompt: 'a paper boat on a puddle',
  n: 1,
  size: { width: 256, height: 192 },
  signal: new AbortController().signal,
  ...overrides,
})

describe('createLocalProvider', () => {
  const provider = createLocalProvider()

  it('is the local provider', () => {
    expect(provider.name).toBe('local')
  })

  it('returns n images that all differ, as declared PNGs of the requested size', async () => {
    const result = await provider.generate(request({ n: 3 }))
    expect(result.images).toHaveLength(3)
    expect(new Set(result.images.map((image) => sha256(image.bytes))).size).toBe(3)
    for (const image of result.images) {
      expect(image.declaredMediaType).toBe('image/png')
      expect(image.revisedPrompt).toBeUndefined()
      expect(await sharp(image.bytes).metadata()).toMatchObject({
        format: 'png',
        width: 256,
        height: 192,
      })
    }
    expect(result.warnings).toEqual([])
  })

  it('renders 1024x1024 when no size is given', async () => {
    const result = await provider.generate(request({ size: undefined }))
    const image = result.images[0]
    expect(image).toBeDefined()
    expect(await sharp(image?.bytes).metadata()).toMatchObject({ width: 1024, height: 1024 })
  })

  it('is deterministic without a seed (derived from the prompt), and the seed changes it', async () => {
    const hashes = async (overrides: Partial<GenerateImagesRequest>) =>
      (await provider.generate(request({ n: 2, ...overrides }))).images.map((image) =>
        sha256(image.bytes),
      )
    expect(await hashes({})).toEqual(await hashes({}))
    expect(await hashes({ seed: 1 })).not.toEqual(await hashes({}))
    expect(await hashes({ prompt: 'a paper plane' })).not.toEqual(await hashes({}))
  })

  it.each([
    ['jpeg', 'image/jpeg'],
    ['webp', 'image/webp'],
  ] as const)('honours outputFormat=%s', async (outputFormat, mediaType) => {
    const [image] = (await provider.generate(request({ outputFormat }))).images
    expect(image?.declaredMediaType).toBe(mediaType)
    expect((await sharp(image?.bytes).metadata()).format).toBe(outputFormat)
  })

  it('reports the settings it cannot honour', async () => {
    const result = await provider.generate(
      request({ style: 'vivid', quality: 'high', background: 'transparent' }),
    )
    expect(result.warnings).toEqual([
      'local-sketch ignores quality=high',
      'local-sketch ignores style=vivid',
      'local-sketch ignores background=transparent (renders opaque)',
    ])
    expect(result.images).toHaveLength(1)
  })

  it('stops with a timeout failure once the request deadline has passed', async () => {
    const controller = new AbortController()
    controller.abort(new Error('deadline'))
    const failure = await provider
      .generate(request({ signal: controller.signal }))
      .catch((error: unknown) => error)
    expect(failure).toBeInstanceOf(UpstreamFailure)
    expect(failure).toMatchObject({ kind: 'timeout', provider: 'local' })
  })

  it.each([0, -1, 1.5])('rejects n=%d', async (n) => {
    await expect(provider.generate(request({ n }))).rejects.toMatchObject({ kind: 'rejected' })
  })
})
