import sharp from 'sharp'
import { describe, expect, it } from 'vitest'
import { ImageDecodeError, ImageTooLargeError } from './errors.ts'
import { integrityVerdict, pseudoRandomBytes } from './testing/fixtures.ts'

const hex = (value: string) => Buffer.from(value.replace(/\s/g, ''), 'hex')

function segment(marker: number, data: Uint8Array): Buffer {
  const out = Buffer.alloc(4 + data.byteLength)
  out[0] = 0xff
  out[1] = marker
  out.writeUInt16BE(data.byteLength + 2, 2)
  out.set(data, 4)
  return out
}

function frame(width: number, height: number): Buffer {
  const data = Buffer.alloc(9)
  data[0] = 8
  data.writeUInt16BE(height, 1)
  data.writeUInt16BE(width, 3)
  data.set([1, 1, 0x11, 0], 5)
  return segment(0xc0, data)
}

const SOI = hex('ffd8')
const EOI = hex('ffd9')
const scanHeader = segment(0xda, hex('01 01 00 00 3f 00'))
/**
 * A JPEG the walk reads without decoding: SOI, a frame, a scan whose entropy-coded data is
 * `entropy`, EOI. No tables: the walk does not need them, a decoder would.
 */
const jpeg = (entropy: Buffer, size = { width: 8, height: 8 }) =>
  Buffer.concat([SOI, frame(size.width, size.height), scanHeader, entropy, EOI])

const real = () =>
  sharp(pseudoRandomBytes(64 * 48 * 3, 'jpeg'), { raw: { width: 64, height: 48, channels: 3 } })
    .jpeg()
    .toBuffer()

describe('JPEG structure', () => {
  it.each([
    ['plain entropy data', hex('12 34 56')],
    ['stuffed 0xFF bytes', hex('12 ff 00 34 ff 00')],
    [
      'restart markers in sequence',
      hex('12 ffd0 34 ffd1 56 ffd2 78 ffd3 9a ffd4 ffd5 ffd6 ffd7 ffd0'),
    ],
    ['fill bytes before EOI', hex('12 34 ff ff')],
  ])('accepts a scan with %s', (_label, entropy) => {
    expect(integrityVerdict(jpeg(entropy), { pieceSize: 2 })).toBe('intact')
  })

  it.each([
    ['restart markers out of sequence', () => jpeg(hex('12 ffd0 34 ffd2'))],
    ['a reserved marker in the data', () => jpeg(hex('12 ff 02 34'))],
    ['no scan at all', () => Buffer.concat([SOI, frame(8, 8), EOI])],
    ['a scan before the frame', () => Buffer.concat([SOI, scanHeader, hex('12'), EOI])],
    ['two frames', () => Buffer.concat([SOI, frame(8, 8), frame(8, 8), scanHeader, EOI])],
    ['a height left to a DNL marker', () => jpeg(hex('12'), { width: 8, height: 0 })],
    [
      'a segment length below 2',
      () => Buffer.concat([SOI, hex('ffe0 0001'), frame(8, 8), scanHeader, EOI]),
    ],
    ['bytes between segments', () => Buffer.concat([SOI, hex('00'), frame(8, 8), scanHeader, EOI])],
    [
      'a hierarchical frame',
      () => Buffer.concat([SOI, segment(0xc5, hex('08 0008 0008 01 01 11 00')), EOI]),
    ],
    ['no SOI', () => jpeg(hex('12')).subarray(2)],
    ['no EOI', () => jpeg(hex('12')).subarray(0, -2)],
  ])('refuses %s', (_label, make) => {
    expect(integrityVerdict(make())).toBeInstanceOf(ImageDecodeError)
  })

  it('refuses a damaged segment length in a real JPEG', async () => {
    const bytes = await real()
    // The first segment after SOI (APP0 or DQT): its length one byte longer.
    const damaged = Buffer.from(bytes)
    damaged.writeUInt16BE(damaged.readUInt16BE(4) + 1, 4)
    expect(integrityVerdict(bytes)).toBe('intact')
    expect(integrityVerdict(damaged)).toBeInstanceOf(ImageDecodeError)
  })

  it('accepts further JPEG streams after EOI (MPF, Ultra HDR gain maps), and nothing else', async () => {
    const bytes = await real()
    const secondary = jpeg(hex('12 34'))
    expect(integrityVerdict(Buffer.concat([bytes, secondary]), { pieceSize: 9 })).toBe('intact')
    expect(integrityVerdict(Buffer.concat([bytes, secondary.subarray(0, -1)]))).toBeInstanceOf(
      ImageDecodeError,
    )
    expect(integrityVerdict(Buffer.concat([bytes, hex('00 00')]))).toBeInstanceOf(ImageDecodeError)
  })

  it('does not find a flipped bit inside entropy-coded data: JPEG has no checksum over it', async () => {
    const bytes = await real()
    const scanStart = bytes.indexOf(hex('ffda'))
    const dataStart = scanStart + 2 + bytes.readUInt16BE(scanStart + 2)
    // A byte well inside the data whose flip makes neither 0xFF nor a marker after one.
    let at = dataStart + 20
    while (bytes[at] === 0xff || bytes[at - 1] === 0xff || (bytes[at] as number) >= 0x80) {
      at += 1
    }
    const flipped = Buffer.from(bytes)
    flipped[at] = (flipped[at] as number) ^ 0x01
    expect(integrityVerdict(flipped)).toBe('intact')
  })

  it.each([
    [65_535, 65_535, 40_000_000],
    [101, 100, 10_000],
  ])('refuses a %i×%i frame over a cap of %i', (width, height, maxPixels) => {
    expect(integrityVerdict(jpeg(hex('12'), { width, height }), { maxPixels })).toBeInstanceOf(
      ImageTooLargeError,
    )
  })
})
