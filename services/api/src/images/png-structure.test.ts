import { crc32, deflateSync } from 'node:zlib'
import sharp from 'sharp'
import { describe, expect, it } from 'vitest'
import { ImageDecodeError, ImageTooLargeError } from './errors.ts'
import { flipBit, headerOnlyPng, integrityVerdict, pseudoRandomBytes } from './testing/fixtures.ts'

function chunk(type: string, data: Uint8Array): Buffer {
  const body = Buffer.concat([Buffer.from(type, 'latin1'), data])
  const out = Buffer.alloc(body.byteLength + 8)
  out.writeUInt32BE(data.byteLength, 0)
  body.copy(out, 4)
  out.writeUInt32BE(crc32(body) >>> 0, body.byteLength + 4)
  return out
}

const SIGNATURE = Buffer.from('89504e470d0a1a0a', 'hex')

function header(width: number, height: number, bitDepth = 8, colourType = 2, interlace = 0) {
  const data = Buffer.alloc(13)
  data.writeUInt32BE(width, 0)
  data.writeUInt32BE(height, 4)
  data.set([bitDepth, colourType, 0, 0, interlace], 8)
  return chunk('IHDR', data)
}

const pixels = chunk('IDAT', deflateSync(Buffer.alloc(4 * (1 + 4 * 3))))
const end = chunk('IEND', Buffer.alloc(0))
const png = (...chunks: Buffer[]) => Buffer.concat([SIGNATURE, ...chunks])

describe('PNG structure', () => {
  it('finds every single flipped bit of a real PNG', async () => {
    const real = await sharp(pseudoRandomBytes(12 * 8 * 3, 'bits'), {
      raw: { width: 12, height: 8, channels: 3 },
    })
      .png({ adaptiveFiltering: true })
      .toBuffer()
    expect(integrityVerdict(real)).toBe('intact')
    for (let bit = 0; bit < real.byteLength * 8; bit++) {
      expect(integrityVerdict(flipBit(real, bit)), `bit ${bit}`).not.toBe('intact')
    }
  })

  it('accepts a minimal hand-made PNG with an ancillary chunk', () => {
    const text = chunk('tEXt', Buffer.from('Comment\0hello', 'latin1'))
    expect(integrityVerdict(png(header(4, 4), text, pixels, end))).toBe('intact')
  })

  it.each([
    ['no IHDR first', () => png(pixels, header(4, 4), end)],
    ['two IHDR', () => png(header(4, 4), header(4, 4), pixels, end)],
    ['no IDAT', () => png(header(4, 4), end)],
    [
      'IDAT chunks apart',
      () => png(header(4, 4), pixels, chunk('tEXt', Buffer.from('a\0b')), pixels, end),
    ],
    [
      'an unknown critical chunk',
      () => png(header(4, 4), chunk('ABCD', Buffer.alloc(3)), pixels, end),
    ],
    ['a palette image without PLTE', () => png(header(4, 4, 8, 3), pixels, end)],
    [
      'PLTE in a greyscale image',
      () => png(header(4, 4, 8, 0), chunk('PLTE', Buffer.alloc(3)), pixels, end),
    ],
    ['PLTE after IDAT', () => png(header(4, 4, 8, 2), pixels, chunk('PLTE', Buffer.alloc(3)), end)],
    ['RGB at 4 bits', () => png(header(4, 4, 4, 2), pixels, end)],
    ['an unknown interlace method', () => png(header(4, 4, 8, 2, 2), pixels, end)],
    ['a zero width', () => png(header(0, 4), pixels, end)],
    ['IEND with data', () => png(header(4, 4), pixels, chunk('IEND', Buffer.alloc(1)))],
    [
      'a chunk type that is not letters',
      () => png(header(4, 4), chunk('tE1t', Buffer.alloc(1)), pixels, end),
    ],
    ['a chunk after IEND', () => png(header(4, 4), pixels, end, end)],
    ['no IEND', () => png(header(4, 4), pixels)],
    [
      'a length past the end',
      () => png(header(4, 4), pixels, Buffer.from('7fffffff49454e44', 'hex')),
    ],
  ])('refuses %s', (_label, make) => {
    expect(integrityVerdict(make(), { pieceSize: 3 })).toBeInstanceOf(ImageDecodeError)
  })

  it.each([
    [100_000, 100_000, 40_000_000],
    [8_000, 5_001, 40_000_000],
    [101, 100, 10_000],
  ])('refuses %i×%i over a cap of %i from IHDR alone', (width, height, maxPixels) => {
    expect(integrityVerdict(headerOnlyPng(width, height), { maxPixels })).toBeInstanceOf(
      ImageTooLargeError,
    )
  })
})
