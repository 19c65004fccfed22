import { createHash } from 'node:crypto'
import sharp from 'sharp'
import { describe, expect, it } from 'vitest'
import { EditInputError } from '../../refinement/openai-edit-form.ts'
import type { InputImage } from '../../refinement/types.ts'
import { noiseJpeg, noisePng } from '../../testing/images.ts'
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

describe('createLocalProvider with input images', () => {
  const provider = createLocalProvider()
  const photo = async (seed: string) => new Uint8Array(await noisePng(seed, 48))
  const input = (bytes: Uint8Array, role = 'edit_target'): InputImage => ({
    bytes,
    mediaType: 'image/png',
    role,
  })
  const render = async (overrides: Partial<GenerateImagesRequest>) => {
    const result = await provider.generate(request(overrides))
    return { hash: sha256(result.images[0]?.bytes ?? new Uint8Array()), result }
  }

  it('derives the picture from the input: deterministic, and different per input', async () => {
    const [first, second] = await Promise.all([photo('first'), photo('second')])
    const plain = await render({})
    const fromFirst = await render({ inputs: [input(first)] })
    const again = await render({ inputs: [input(new Uint8Array(first))] })
    const fromSecond = await render({ inputs: [input(second)] })

    expect(fromFirst.hash).not.toBe(plain.hash)
    expect(again.hash).toBe(fromFirst.hash)
    expect(fromSecond.hash).not.toBe(fromFirst.hash)
    expect(fromFirst.result.warnings).toEqual([])
    expect(await sharp(fromFirst.result.images[0]?.bytes).metadata()).toMatchObject({
      format: 'png',
      width: 256,
      height: 192,
    })
  })

  it('keeps n variants apart when deriving', async () => {
    const result = await provider.generate(request({ n: 2, inputs: [input(await photo('a'))] }))
    expect(new Set(result.images.map((image) => sha256(image.bytes))).size).toBe(2)
  })

  it('derives from the first edit_target, wherever it is, and says the others were not used', async () => {
    const [reference, target] = await Promise.all([photo('reference'), photo('target')])
    const alone = await render({ inputs: [input(target)] })
    const behind = await render({
      inputs: [input(reference, 'reference'), input(target), input(reference, 'logo')],
    })
    expect(behind.hash).toBe(alone.hash)
    expect(behind.result.warnings).toEqual([
      'local-sketch derives its picture from input image 2 only; the other 2 were not used',
    ])
  })

  it('derives from the first input when none is an edit_target', async () => {
    const [style, logo] = await Promise.all([photo('style'), photo('logo')])
    const alone = await render({ inputs: [input(style, 'style')] })
    const both = await render({ inputs: [input(style, 'style'), input(logo, 'logo')] })
    expect(both.hash).toBe(alone.hash)
    expect(both.result.warnings).toEqual([
      'local-sketch derives its picture from input image 1 only; the other 1 was not used',
    ])
  })

  it('reads JPEG inputs too', async () => {
    const jpeg = new Uint8Array(await noiseJpeg('jpeg', 48))
    const fromJpeg = await render({ inputs: [{ ...input(jpeg), mediaType: 'image/jpeg' }] })
    expect(fromJpeg.hash).not.toBe((await render({})).hash)
  })

  it('accepts a mask but does not honour it, and says so', async () => {
    const target = await photo('masked')
    const mask = new Uint8Array(
      await sharp({
        create: { width: 48, height: 48, channels: 4, background: { r: 0, g: 0, b: 0, alpha: 0 } },
      })
        .png()
        .toBuffer(),
    )
    const unmasked = await render({ inputs: [input(target)] })
    const masked = await render({ inputs: [input(target)], mask })
    expect(masked.hash).toBe(unmasked.hash)
    expect(masked.result.warnings).toEqual([
      'local-sketch ignores the mask: it repaints the whole image, the masked areas included',
    ])
    const withoutInputs = await render({ mask })
    expect(withoutInputs.hash).toBe((await render({})).hash)
    expect(withoutInputs.result.warnings).toEqual([
      'local-sketch ignores the mask: the request has no input image to edit',
    ])
  })

  it('names the edit and refinement settings it has no use for', async () => {
    const { result } = await render({
      inputs: [input(await photo('settings'))],
      inputFidelity: 'high',
      chain: [{ prompt: 'a boat', inputs: [], modelTurn: {} }],
      strictContent: true,
    })
    expect(result.warnings).toEqual([
      'local-sketch ignores input_fidelity=high',
      'local-sketch has no conversation; the 1 earlier turn(s) were not used',
      'local-sketch ignores the strict content rules (it draws the prompt as text)',
    ])
  })

  it('refuses an input it cannot decode with EditInputError', async () => {
    const broken = new TextEncoder().encode('not an image at all')
    const error = await provider
      .generate(request({ inputs: [input(await photo('ok'), 'reference'), input(broken)] }))
      .catch((reason: unknown) => reason)
    expect(error).toBeInstanceOf(EditInputError)
    expect(error).toMatchObject({ param: 'image', message: 'input image 2 could not be read' })
  })
})
