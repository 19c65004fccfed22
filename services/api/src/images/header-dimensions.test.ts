import { describe, expect, it } from 'vitest'
import { type ImageFormat, readHeaderDimensions } from './header-dimensions.ts'
import { headerOnlyPng, solidImage as solid } from './testing/fixtures.ts'

describe('readHeaderDimensions', () => {
  it.each<[string, ImageFormat, () => Promise<Buffer>]>([
    ['PNG', 'png', () => solid(37, 21).png().toBuffer()],
    ['GIF', 'gif', () => solid(37, 21).gif().toBuffer()],
    ['JPEG', 'jpeg', () => solid(37, 21).jpeg().toBuffer()],
    ['lossy WebP', 'webp', () => solid(37, 21).webp().toBuffer()],
    ['lossless WebP', 'webp', () => solid(37, 21).webp({ lossless: true }).toBuffer()],
    ['extended WebP', 'webp', () => solid(37, 21, 4).webp({ alphaQuality: 50 }).toBuffer()],
    [
      'JPEG with EXIF before the frame header',
      'jpeg',
      () =>
        solid(37, 21)
          .jpeg()
          .withExif({ IFD0: { ImageDescription: 'x'.repeat(2000) } })
          .toBuffer(),
    ],
  ])('reads %s dimensions as the decoder does', async (_label, format, make) => {
    const bytes = await make()
    expect(readHeaderDimensions(bytes.subarray(0, 4096), format)).toEqual({ width: 37, height: 21 })
  })

  it('reads a hand-made 100000×100000 PNG header', () => {
    expect(readHeaderDimensions(headerOnlyPng(100_000, 100_000), 'png')).toEqual({
      width: 100_000,
      height: 100_000,
    })
  })

  it('gives up on headers that are cut short', () => {
    expect(readHeaderDimensions(new Uint8Array(8), 'png')).toBeUndefined()
    expect(
      readHeaderDimensions(Uint8Array.from([0xff, 0xd8, 0xff, 0xe0, 0, 16]), 'jpeg'),
    ).toBeUndefined()
  })
})
