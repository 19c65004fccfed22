import sharp from 'sharp'
import { describe, expect, it } from 'vitest'
import { ImageDecodeError, ImageTooLargeError } from './errors.ts'
import { integrityVerdict, pseudoRandomBytes, solidImage } from './testing/fixtures.ts'

const lossy = () =>
  sharp(pseudoRandomBytes(32 * 24 * 3, 'webp'), { raw: { width: 32, height: 24, channels: 3 } })
    .webp()
    .toBuffer()

function withRiffSize(bytes: Buffer, size: number): Buffer {
  const out = Buffer.from(bytes)
  out.writeUInt32LE(size, 4)
  return out
}

function chunk(type: string, data: Uint8Array): Buffer {
  const padded = Buffer.alloc(8 + data.byteLength + (data.byteLength % 2))
  padded.write(type, 0, 'latin1')
  padded.writeUInt32LE(data.byteLength, 4)
  padded.set(data, 8)
  return padded
}

function riff(...chunks: Buffer[]): Buffer {
  const body = Buffer.concat([Buffer.from('WEBP', 'latin1'), ...chunks])
  const head = Buffer.alloc(8)
  head.write('RIFF', 0, 'latin1')
  head.writeUInt32LE(body.byteLength, 4)
  return Buffer.concat([head, body])
}

/** A VP8X header for a canvas, with the given flags. */
function canvas(width: number, height: number, flags = 0): Buffer {
  const data = Buffer.alloc(10)
  data[0] = flags
  data.writeUIntLE(width - 1, 4, 3)
  data.writeUIntLE(height - 1, 7, 3)
  return chunk('VP8X', data)
}

/** The image chunk (VP8 or VP8L) of a simple WebP, as its encoder wrote it. */
const imageChunkOf = (webp: Buffer) => webp.subarray(12)

describe('WebP structure', () => {
  it('accepts an extended file wrapping a real image whose size matches its canvas', async () => {
    const image = imageChunkOf(await lossy())
    expect(integrityVerdict(riff(canvas(32, 24), image), { pieceSize: 3 })).toBe('intact')
    expect(integrityVerdict(riff(canvas(32, 24), chunk('XYZW', Buffer.alloc(3)), image))).toBe(
      'intact',
    )
  })

  it.each([
    [
      'RIFF size 2 too large',
      async () => withRiffSize(await lossy(), (await lossy()).readUInt32LE(4) + 2),
    ],
    [
      'RIFF size 2 too small',
      async () => withRiffSize(await lossy(), (await lossy()).readUInt32LE(4) - 2),
    ],
    [
      'an odd RIFF size',
      async () => withRiffSize(await lossy(), (await lossy()).readUInt32LE(4) + 1),
    ],
    [
      'a canvas that does not match the image',
      async () => riff(canvas(33, 24), imageChunkOf(await lossy())),
    ],
    [
      'an extended file without an image',
      async () => riff(canvas(32, 24), chunk('EXIF', Buffer.alloc(4))),
    ],
    [
      'two images',
      async () => riff(canvas(32, 24), imageChunkOf(await lossy()), imageChunkOf(await lossy())),
    ],
    [
      'an animation without frames',
      async () => riff(canvas(32, 24, 0x02), chunk('ANIM', Buffer.alloc(6))),
    ],
    ['a first chunk that is no image', async () => riff(chunk('EXIF', Buffer.alloc(4)))],
    [
      'a VP8 chunk without its start code',
      async () => {
        const bytes = await lossy()
        bytes[23] = 0
        return bytes
      },
    ],
    [
      'a VP8L header with a version',
      async () => {
        const bytes = await solidImage(8, 8).webp({ lossless: true }).toBuffer()
        bytes[24] = (bytes[24] as number) | 0x20
        return bytes
      },
    ],
    [
      'a chunk longer than the file',
      async () => {
        const bytes = await lossy()
        bytes.writeUInt32LE(bytes.readUInt32LE(16) + 64, 16)
        return bytes
      },
    ],
  ])('refuses %s', async (_label, make) => {
    expect(integrityVerdict(await make())).toBeInstanceOf(ImageDecodeError)
  })

  it.each([
    ['a VP8X canvas', () => riff(canvas(16_384, 16_384))],
    [
      'a VP8 frame',
      async () => {
        const bytes = await lossy()
        bytes.writeUInt16LE(200, 26)
        bytes.writeUInt16LE(200, 28)
        return bytes
      },
    ],
  ])('refuses %s over the cap from its header', async (_label, make) => {
    expect(integrityVerdict(await make(), { maxPixels: 30_000 })).toBeInstanceOf(ImageTooLargeError)
  })
})
