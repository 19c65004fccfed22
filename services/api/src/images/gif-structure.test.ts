import { describe, expect, it } from 'vitest'
import { ImageDecodeError, ImageTooLargeError } from './errors.ts'
import { integrityVerdict } from './testing/fixtures.ts'

const hex = (value: string) => Buffer.from(value.replace(/\s/g, ''), 'hex')

/** Logical screen width × height, no global colour table. */
function screen(width: number, height: number): Buffer {
  const out = Buffer.alloc(7)
  out.writeUInt16LE(width, 0)
  out.writeUInt16LE(height, 2)
  return out
}

/** An image descriptor with a 2-entry local colour table, LZW code size 2, one data block. */
function image(width: number, height: number, codeSize = 2): Buffer {
  const descriptor = Buffer.alloc(10)
  descriptor[0] = 0x2c
  descriptor.writeUInt16LE(width, 5)
  descriptor.writeUInt16LE(height, 7)
  descriptor[9] = 0x80
  return Buffer.concat([
    descriptor,
    hex('000000 ffffff'),
    Buffer.from([codeSize]),
    hex('02 4401 00'),
  ])
}

const HEADER = Buffer.from('GIF89a', 'latin1')
const COMMENT = hex('21 fe 05 68656c6c6f 00')
const TRAILER = hex('3b')
const gif = (...parts: Buffer[]) => Buffer.concat([HEADER, ...parts])

describe('GIF structure', () => {
  it('accepts extensions and several images in any pieces', () => {
    const bytes = gif(screen(4, 4), COMMENT, image(4, 4), COMMENT, image(2, 2), TRAILER)
    for (const pieceSize of [1, 3, 64]) {
      expect(integrityVerdict(bytes, { pieceSize })).toBe('intact')
    }
  })

  it.each([
    ['no trailer', () => gif(screen(4, 4), image(4, 4))],
    ['no image', () => gif(screen(4, 4), COMMENT, TRAILER)],
    ['bytes after the trailer', () => gif(screen(4, 4), image(4, 4), TRAILER, hex('00'))],
    ['an unknown block', () => gif(screen(4, 4), hex('99'), image(4, 4), TRAILER)],
    ['an LZW code size of 12', () => gif(screen(4, 4), image(4, 4, 12), TRAILER)],
    ['an empty frame', () => gif(screen(4, 4), image(0, 4), TRAILER)],
    ['a broken sub-block chain', () => gif(screen(4, 4), hex('21 fe 09 68656c6c6f'), TRAILER)],
    [
      'another signature',
      () => Buffer.concat([Buffer.from('GIF90a'), screen(4, 4), image(4, 4), TRAILER]),
    ],
  ])('refuses %s', (_label, make) => {
    expect(integrityVerdict(make())).toBeInstanceOf(ImageDecodeError)
  })

  it.each([
    ['logical screen', () => gif(screen(65_535, 65_535), image(4, 4), TRAILER)],
    ['frame', () => gif(screen(4, 4), image(65_535, 65_535), TRAILER)],
  ])('refuses a %s over the cap', (_label, make) => {
    expect(integrityVerdict(make(), { maxPixels: 40_000_000 })).toBeInstanceOf(ImageTooLargeError)
  })
})
