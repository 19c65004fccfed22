import { crc32 } from 'node:zlib'
import fc from 'fast-check'
import sharp from 'sharp'
import { describe, expect, it } from 'vitest'
import { EDGE_BYTES } from '../storage/edge-bytes.ts'
import type { ImageFormat } from './header-dimensions.ts'
import { readPlainHeader } from './plain-header.ts'
import {
  headerOnlyPng,
  pngBomb,
  pseudoRandomBytes,
  solidImage as solid,
} from './testing/fixtures.ts'

const head = (bytes: Uint8Array) => bytes.subarray(0, EDGE_BYTES)

/** What sharp's header read says, as inspectImage uses it; undefined when sharp refuses. */
async function sharpReads(bytes: Uint8Array) {
  try {
    const metadata = await sharp(bytes, { limitInputPixels: false }).metadata()
    const displayed = metadata.autoOrient ?? metadata
    return { format: metadata.format, width: displayed.width, height: displayed.height }
  } catch {
    return undefined
  }
}

const plainOutputs: [string, ImageFormat, () => Promise<Buffer>][] = [
  ['PNG', 'png', () => solid(37, 21).png().toBuffer()],
  ['RGBA PNG', 'png', () => solid(37, 21, 4).png().toBuffer()],
  ['palette PNG', 'png', () => solid(37, 21).png({ palette: true }).toBuffer()],
  ['interlaced PNG', 'png', () => solid(37, 21).png({ progressive: true }).toBuffer()],
  ['16-bit grey PNG', 'png', () => solid(37, 21).toColourspace('grey16').png().toBuffer()],
  ['baseline JPEG', 'jpeg', () => solid(37, 21).jpeg().toBuffer()],
  ['progressive JPEG', 'jpeg', () => solid(37, 21).jpeg({ progressive: true }).toBuffer()],
  ['mozjpeg JPEG', 'jpeg', () => solid(37, 21).jpeg({ mozjpeg: true }).toBuffer()],
  [
    'JPEG with a comment and XMP',
    'jpeg',
    () =>
      solid(37, 21).jpeg().withXmp('<x:xmpmeta xmlns:x="adobe:ns:meta/"></x:xmpmeta>').toBuffer(),
  ],
]

const askSharp: [string, ImageFormat, () => Promise<Buffer>][] = [
  [
    'PNG with EXIF orientation',
    'png',
    () => solid(37, 21).png().withMetadata({ orientation: 6 }).toBuffer(),
  ],
  ['PNG with an ICC profile', 'png', () => solid(37, 21).png().withIccProfile('p3').toBuffer()],
  [
    'JPEG with EXIF orientation',
    'jpeg',
    () => solid(37, 21).jpeg().withMetadata({ orientation: 6 }).toBuffer(),
  ],
  ['CMYK JPEG', 'jpeg', () => solid(37, 21).toColourspace('cmyk').jpeg().toBuffer()],
  [
    'JPEG whose frame header lies beyond the head',
    'jpeg',
    () =>
      solid(37, 21)
        .jpeg()
        .withExif({ IFD0: { ImageDescription: 'x'.repeat(5000) } })
        .toBuffer(),
  ],
  ['GIF', 'gif', () => solid(37, 21).gif().toBuffer()],
  ['WebP', 'webp', () => solid(37, 21).webp().toBuffer()],
]

describe('readPlainHeader', () => {
  it.each(plainOutputs)('answers for a %s, as sharp does', async (_label, format, make) => {
    const bytes = await make()
    expect(readPlainHeader(head(bytes), format)).toEqual({ width: 37, height: 21 })
    expect(await sharpReads(bytes)).toEqual({ format, width: 37, height: 21 })
  })

  it.each(askSharp)('leaves a %s to sharp', async (_label, format, make) => {
    expect(readPlainHeader(head(await make()), format)).toBeUndefined()
  })

  it('leaves headers that are cut short, broken or bombs without pixel data to sharp', () => {
    expect(readPlainHeader(headerOnlyPng(10, 10), 'png')).toBeUndefined()
    const garbage = Buffer.concat([headerOnlyPng(10, 10), pseudoRandomBytes(64, 'not a chunk')])
    expect(readPlainHeader(garbage, 'png')).toBeUndefined()
    expect(readPlainHeader(new Uint8Array(8), 'png')).toBeUndefined()
    expect(
      readPlainHeader(Uint8Array.from([0xff, 0xd8, 0xff, 0xdb, 0, 67]), 'jpeg'),
    ).toBeUndefined()
    // A complete tiny file that claims more pixels than libvips addresses: sharp's call, too.
    expect(readPlainHeader(pngBomb(100_000, 100_000), 'png')).toBeUndefined()
  })

  it('a PNG chunk with a bad CRC is left to sharp', async () => {
    const bytes = Buffer.from(await solid(37, 21).png().toBuffer())
    bytes[8 + 8 + 13 + 2] = (bytes[8 + 8 + 13 + 2] ?? 0) ^ 0xff
    expect(readPlainHeader(head(bytes), 'png')).toBeUndefined()
  })

  /**
   * The promise that lets inspectImage skip sharp: whatever this accepts, sharp reads with the
   * same format and size. Random bytes of the header are changed; for PNG the CRC of the chunk
   * hit is recomputed half the time, so field checks are exercised, not only the CRC.
   */
  it('never accepts a header sharp would refuse or read differently', async () => {
    const samples = await Promise.all(
      plainOutputs.map(async ([, format, make]) => ({ format, bytes: await make() })),
    )
    let answered = 0
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: samples.length - 1 }),
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), {
          minLength: 1,
          maxLength: 3,
        }),
        fc.boolean(),
        async (which, changes, fixCrc) => {
          const { format, bytes: original } = samples[which] as (typeof samples)[number]
          const bytes = Buffer.from(original)
          const headerEnd = headerLength(bytes, format)
          for (const [position, value] of changes) {
            bytes[2 + (position % (headerEnd - 2))] = value
          }
          if (format === 'png' && fixCrc) {
            recomputePngCrcs(bytes)
          }
          const plain = readPlainHeader(head(bytes), format)
          if (plain === undefined) {
            return
          }
          answered += 1
          expect(await sharpReads(bytes)).toEqual({ format, ...plain })
        },
      ),
      { numRuns: 600, seed: 20261121 },
    )
    expect(answered).toBeGreaterThan(50)
  })
})

/** Bytes up to the first IDAT chunk's type (PNG) or the end of the first scan header (JPEG). */
function headerLength(bytes: Buffer, format: ImageFormat): number {
  let offset = format === 'png' ? 8 : 2
  while (offset + 8 <= bytes.byteLength) {
    if (format === 'png') {
      if (bytes.toString('latin1', offset + 4, offset + 8) === 'IDAT') {
        return offset + 8
      }
      offset += 12 + bytes.readUInt32BE(offset)
    } else {
      const end = offset + 2 + bytes.readUInt16BE(offset + 2)
      if (bytes[offset + 1] === 0xda) {
        return end
      }
      offset = end
    }
  }
  throw new Error('no pixel data in sample')
}

/** Rewrites the CRC of every chunk before IDAT whose length still fits the buffer. */
function recomputePngCrcs(bytes: Buffer) {
  let offset = 8
  while (offset + 8 <= bytes.byteLength) {
    const length = bytes.readUInt32BE(offset)
    if (bytes.toString('latin1', offset + 4, offset + 8) === 'IDAT') {
      return
    }
    if (offset + 12 + length > bytes.byteLength) {
      return
    }
    bytes.writeUInt32BE(crc32(bytes.subarray(offset + 4, offset + 8 + length)), offset + 8 + length)
    offset += 12 + length
  }
}
