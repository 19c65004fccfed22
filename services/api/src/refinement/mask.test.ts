import sharp from 'sharp'
import { describe, expect, it } from 'vitest'
import { MaskError, validateEditMask } from './mask.ts'

type Options = { width: number; height: number; channels: 1 | 2 | 3 | 4 }

function blank({ width, height, channels }: Options) {
  return sharp({
    create: {
      width,
      height,
      channels: channels === 1 || channels === 2 ? 3 : channels,
      background: { r: 0, g: 0, b: 0, alpha: 0 },
    },
  })
}

const rgbaPng = (width: number, height = width) =>
  blank({ width, height, channels: 4 }).png().toBuffer()
const rgbPng = (width: number, height = width) =>
  blank({ width, height, channels: 3 }).png().toBuffer()
const greyAlphaPng = (width: number) =>
  blank({ width, height: width, channels: 4 }).toColourspace('b-w').png().toBuffer()

async function problemOf(promise: Promise<unknown>): Promise<MaskError> {
  try {
    await promise
  } catch (error) {
    expect(error).toBeInstanceOf(MaskError)
    return error as MaskError
  }
  throw new Error('expected a MaskError')
}

describe('validateEditMask', () => {
  it('accepts an RGBA PNG of the image size and returns its size', async () => {
    const image = await rgbPng(64, 48)
    await expect(validateEditMask(await rgbaPng(64, 48), image)).resolves.toEqual({
      width: 64,
      height: 48,
    })
    await expect(
      validateEditMask(await rgbaPng(64, 48), { width: 64, height: 48 }),
    ).resolves.toEqual({ width: 64, height: 48 })
  })

  it('accepts a grey + alpha PNG and a palette PNG with transparency', async () => {
    const grey = await greyAlphaPng(32)
    expect((await sharp(grey).metadata()).channels).toBe(2)
    await expect(validateEditMask(grey, { width: 32, height: 32 })).resolves.toBeDefined()
    const palette = await blank({ width: 32, height: 32, channels: 4 })
      .png({ palette: true })
      .toBuffer()
    expect((await sharp(palette).metadata()).isPalette).toBe(true)
    await expect(validateEditMask(palette, { width: 32, height: 32 })).resolves.toBeDefined()
  })

  it('refuses a PNG without an alpha channel', async () => {
    const error = await problemOf(validateEditMask(await rgbPng(32), { width: 32, height: 32 }))
    expect(error.problem).toBe('no_alpha')
    expect(error.message).toBe(
      'mask must be a PNG with an alpha channel; this PNG has none, so it marks nothing to edit',
    )
  })

  it.each([
    ['JPEG', () => blank({ width: 32, height: 32, channels: 3 }).jpeg().toBuffer()],
    ['WEBP', () => blank({ width: 32, height: 32, channels: 4 }).webp().toBuffer()],
    ['GIF', () => blank({ width: 32, height: 32, channels: 4 }).gif().toBuffer()],
  ])('refuses a %s, even one with transparency', async (format, make) => {
    const error = await problemOf(validateEditMask(await make(), { width: 32, height: 32 }))
    expect(error.problem).toBe('not_png')
    expect(error.message).toBe(`mask must be a PNG with an alpha channel; got ${format}`)
  })

  it('refuses bytes that are not an image at all', async () => {
    for (const bytes of [
      Buffer.from('not an image'),
      new Uint8Array(0),
      (await rgbaPng(32)).subarray(0, 20),
    ]) {
      const error = await problemOf(validateEditMask(bytes, { width: 32, height: 32 }))
      expect(error.problem).toBe('not_png')
      expect(error.message).toMatch(/^mask must be a PNG with an alpha channel; /)
    }
  })

  it('refuses a mask of another size than the first image, saying both sizes', async () => {
    const error = await problemOf(validateEditMask(await rgbaPng(512), await rgbPng(1024)))
    expect(error.problem).toBe('size_mismatch')
    expect(error.message).toBe('mask is 512x512 but the image is 1024x1024')
    const swapped = await problemOf(
      validateEditMask(await rgbaPng(64, 32), { width: 32, height: 64 }),
    )
    expect(swapped.message).toBe('mask is 64x32 but the image is 32x64')
  })

  it('compares with the image as displayed, after its EXIF orientation', async () => {
    // Stored 64 wide and 32 high, shown rotated a quarter turn: 32 wide and 64 high.
    const rotated = await blank({ width: 64, height: 32, channels: 3 })
      .jpeg()
      .withMetadata({ orientation: 6 })
      .toBuffer()
    await expect(validateEditMask(await rgbaPng(32, 64), rotated)).resolves.toEqual({
      width: 32,
      height: 64,
    })
    const error = await problemOf(validateEditMask(await rgbaPng(64, 32), rotated))
    expect(error.message).toBe('mask is 64x32 but the image is 32x64')
  })
})
