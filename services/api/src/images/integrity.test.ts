import sharp from 'sharp'
import { describe, expect, it } from 'vitest'
import { ImageDecodeError, ImageTooLargeError } from './errors.ts'
import { assertIntact, checkedWhileRead, createIntegrityCheck } from './integrity.ts'
import {
  cutOffsets,
  integrityVerdict,
  pngBomb,
  pseudoRandomBytes,
  solidImage,
} from './testing/fixtures.ts'

const text = (value: string) => Buffer.from(value, 'latin1')

/** Pixels with some detail, so every encoder writes more than a few bytes. */
const detailed = (width: number, height: number) =>
  sharp(pseudoRandomBytes(width * height * 3, `${width}x${height}`), {
    raw: { width, height, channels: 3 },
  })

const frames = () =>
  Promise.all(
    ['#c33', '#3c3', '#33c'].map((colour) =>
      sharp({ create: { width: 24, height: 16, channels: 4, background: colour } })
        .png()
        .toBuffer(),
    ),
  )

/** Real encoder output (sharp: libspng, mozjpeg/libjpeg-turbo, libwebp, cgif) in each form. */
const realImages: [string, () => Promise<Buffer>][] = [
  ['PNG RGB, adaptive filters', () => detailed(64, 48).png({ adaptiveFiltering: true }).toBuffer()],
  ['PNG RGBA', () => solidImage(40, 30, 4).png().toBuffer()],
  ['PNG palette', () => detailed(40, 30).png({ palette: true }).toBuffer()],
  ['PNG interlaced', () => detailed(40, 30).png({ progressive: true }).toBuffer()],
  ['PNG 16-bit', () => detailed(20, 10).toColourspace('rgb16').png().toBuffer()],
  ['JPEG baseline', () => detailed(64, 48).jpeg().toBuffer()],
  ['JPEG progressive', () => detailed(64, 48).jpeg({ progressive: true }).toBuffer()],
  ['JPEG greyscale', () => detailed(64, 48).greyscale().jpeg().toBuffer()],
  ['JPEG 4:4:4', () => detailed(64, 48).jpeg({ chromaSubsampling: '4:4:4' }).toBuffer()],
  ['JPEG with EXIF', () => detailed(48, 16).jpeg().withMetadata({ orientation: 6 }).toBuffer()],
  ['WebP lossy', () => detailed(64, 48).webp().toBuffer()],
  ['WebP lossy with alpha', () => solidImage(40, 30, 4).webp().toBuffer()],
  ['WebP lossless', () => detailed(64, 48).webp({ lossless: true }).toBuffer()],
  [
    'WebP animated',
    async () =>
      sharp(await frames(), { join: { animated: true } })
        .webp()
        .toBuffer(),
  ],
  ['GIF', () => detailed(64, 48).gif().toBuffer()],
  [
    'GIF animated',
    async () =>
      sharp(await frames(), { join: { animated: true } })
        .gif()
        .toBuffer(),
  ],
]

describe('createIntegrityCheck', () => {
  it.each(realImages)('passes a real %s, whole and in pieces of any size', async (_label, make) => {
    const bytes = await make()
    for (const pieceSize of [undefined, 1, 7, 4096]) {
      expect(integrityVerdict(bytes, pieceSize ? { pieceSize } : {})).toBe('intact')
    }
  })

  it.each(realImages)('refuses a %s truncated at any offset', async (_label, make) => {
    const bytes = await make()
    for (const cut of cutOffsets(bytes.byteLength)) {
      const verdict = integrityVerdict(bytes.subarray(0, cut))
      expect(verdict, `cut at ${cut} of ${bytes.byteLength}`).toBeInstanceOf(ImageDecodeError)
    }
  })

  it.each(realImages)('refuses a %s with bytes appended', async (_label, make) => {
    const bytes = await make()
    for (const junk of [Buffer.from([0]), pseudoRandomBytes(100, 'junk'), text('<html>')]) {
      const verdict = integrityVerdict(Buffer.concat([bytes, junk]), { pieceSize: 5 })
      expect(verdict).toBeInstanceOf(ImageDecodeError)
    }
  })

  it.each([
    ['nothing', Buffer.alloc(0)],
    ['text', text('not an image at all')],
    ['a TIFF', Buffer.from('49492a0008000000', 'hex')],
    ['a signature alone', Buffer.from('89504e470d0a1a0a', 'hex')],
  ])('refuses %s', (_label, bytes) => {
    expect(integrityVerdict(bytes)).toBeInstanceOf(ImageDecodeError)
  })

  it('says what is wrong in the cause, and keeps the error type the API maps', () => {
    const verdict = integrityVerdict(text('not an image at all'))
    expect(verdict).toMatchObject({ name: 'ImageDecodeError' })
    expect((verdict as ImageDecodeError).cause).toMatchObject({ message: /not a PNG, JPEG/ })
  })

  it('refuses a decompression bomb from its header, before reading further', () => {
    const check = createIntegrityCheck({ maxPixels: 40_000_000 })
    check.push(pngBomb(100_000, 100_000).subarray(0, 40))
    expect(() => check.finish()).toThrow(ImageTooLargeError)
    expect(integrityVerdict(pngBomb(100_000, 100_000))).toMatchObject({
      name: 'ImageTooLargeError',
      width: 100_000,
      height: 100_000,
    })
  })
})

describe('assertIntact', () => {
  it('accepts real images', async () => {
    await expect(assertIntact(await solidImage(64, 64).png().toBuffer())).resolves.toBeUndefined()
    await expect(assertIntact(await solidImage(64, 64).webp().toBuffer())).resolves.toBeUndefined()
  })

  it.each([
    ['a truncated PNG', async () => (await solidImage(64, 64).png().toBuffer()).subarray(0, 60)],
    [
      'a truncated JPEG',
      async () => {
        const jpeg = await solidImage(64, 64).jpeg().toBuffer()
        return jpeg.subarray(0, jpeg.byteLength - 40)
      },
    ],
    ['text', async () => text('not an image at all')],
  ])('rejects %s', async (_label, make) => {
    await expect(assertIntact(await make())).rejects.toBeInstanceOf(ImageDecodeError)
  })

  it('finds damage in the last rows of a PNG', async () => {
    const png = await sharp(pseudoRandomBytes(96 * 64 * 3, 'rows'), {
      raw: { width: 96, height: 64, channels: 3 },
    })
      .png({ compressionLevel: 0 })
      .toBuffer()
    await expect(assertIntact(png)).resolves.toBeUndefined()
    // A flipped byte in the image data, just before IDAT's CRC and the IEND chunk.
    const flipped = Buffer.from(png)
    const at = flipped.byteLength - 12 - 4 - 10
    flipped[at] = (flipped[at] as number) ^ 0xff
    await expect(assertIntact(flipped)).rejects.toBeInstanceOf(ImageDecodeError)
  })

  it('accepts a JPEG whose EXIF rotates it', async () => {
    const rotated = await solidImage(48, 16).jpeg().withMetadata({ orientation: 6 }).toBuffer()
    await expect(assertIntact(rotated)).resolves.toBeUndefined()
  })

  it('refuses a decompression bomb from its header, without decoding it', async () => {
    const started = performance.now()
    await expect(
      assertIntact(pngBomb(100_000, 100_000), { maxPixels: 40_000_000 }),
    ).rejects.toMatchObject({ name: 'ImageTooLargeError', width: 100_000, height: 100_000 })
    expect(performance.now() - started).toBeLessThan(200)
    const big = await solidImage(300, 300).png().toBuffer()
    await expect(assertIntact(big, { maxPixels: 80_000 })).rejects.toBeInstanceOf(
      ImageTooLargeError,
    )
    await expect(assertIntact(big, { maxPixels: 90_000 })).resolves.toBeUndefined()
  })
})

describe('checkedWhileRead', () => {
  it('passes every chunk on unchanged while the check sees them', async () => {
    const png = await detailed(64, 48).png().toBuffer()
    async function* pieces() {
      for (let at = 0; at < png.byteLength; at += 100) {
        yield png.subarray(at, at + 100)
      }
    }
    const check = createIntegrityCheck()
    const passed: Uint8Array[] = []
    for await (const chunk of checkedWhileRead(pieces(), check)) {
      passed.push(chunk)
    }
    expect(Buffer.concat(passed).equals(png)).toBe(true)
    expect(() => check.finish()).not.toThrow()
  })

  it('leaves a stream that was cut short to the check', async () => {
    const png = await detailed(64, 48).png().toBuffer()
    async function* halfOf() {
      yield png.subarray(0, png.byteLength / 2)
    }
    const check = createIntegrityCheck()
    for await (const _ of checkedWhileRead(halfOf(), check)) {
      // drained
    }
    expect(() => check.finish()).toThrow(ImageDecodeError)
  })
})
