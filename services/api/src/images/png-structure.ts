import { crc32 } from 'node:zlib'
import { type Parser, read, StructureError, skip, u32be } from './byte-walker.ts'
import type { PixelCap } from './pixel-cap.ts'

const SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]
const MAX_CHUNK_LENGTH = 0x7fffffff
/** Allowed bit depths per colour type (0 grey, 2 RGB, 3 palette, 4 grey+alpha, 6 RGBA). */
const BIT_DEPTHS: Record<number, number[]> = {
  0: [1, 2, 4, 8, 16],
  2: [8, 16],
  3: [1, 2, 4, 8],
  4: [8, 16],
  6: [8, 16],
}
/** The critical chunks a decoder knows; any other critical chunk makes the file unreadable. */
const CRITICAL = new Set(['IHDR', 'PLTE', 'IDAT', 'IEND'])

const isLetter = (byte: number) => (byte >= 65 && byte <= 90) || (byte >= 97 && byte <= 122)

function checkHeader(data: Uint8Array, cap: PixelCap) {
  const width = u32be(data, 0)
  const height = u32be(data, 4)
  const bitDepth = data[8] ?? 0
  const colourType = data[9] ?? 0
  if (width < 1 || height < 1 || width > MAX_CHUNK_LENGTH || height > MAX_CHUNK_LENGTH) {
    throw new StructureError(`PNG IHDR declares ${width}×${height}`)
  }
  cap(width, height)
  if (!(BIT_DEPTHS[colourType]?.includes(bitDepth) ?? false)) {
    throw new StructureError(`PNG colour type ${colourType} with bit depth ${bitDepth}`)
  }
  if (data[10] !== 0 || data[11] !== 0 || (data[12] !== 0 && data[12] !== 1)) {
    throw new StructureError('PNG IHDR has an unknown compression, filter or interlace method')
  }
  return { colourType }
}

/**
 * A PNG, chunk by chunk: the signature; every chunk's length and CRC-32 (over its type and
 * data, so a flipped bit anywhere in the file, pixel data included, is found); IHDR first and
 * valid, its size within the cap; PLTE where the colour type needs one; IDAT chunks present and
 * consecutive; no critical chunk a decoder would not know; IEND last, with nothing after it.
 * What the CRCs cannot show is compressed data that was malformed before its CRC was computed
 * (an encoder's bug, not damage): only inflating the pixels would.
 */
export function* pngStructure(cap: PixelCap): Parser {
  const signature = yield* read(8)
  if (SIGNATURE.some((byte, index) => signature[index] !== byte)) {
    throw new StructureError('not a PNG signature')
  }
  let colourType = -1
  let palette = false
  /** 0: before the first IDAT; 1: in the IDAT run; 2: after it. */
  let idat = 0
  for (let index = 0; ; index++) {
    const head = yield* read(8)
    const length = u32be(head, 0)
    const typeBytes = head.subarray(4, 8)
    const type = String.fromCharCode(...typeBytes)
    if (length > MAX_CHUNK_LENGTH || !typeBytes.every(isLetter)) {
      throw new StructureError(`PNG chunk ${index} has a malformed header`)
    }
    if ((index === 0) !== (type === 'IHDR')) {
      throw new StructureError('PNG IHDR is not the first chunk, or not the only one')
    }
    let crc = crc32(typeBytes)
    if (type === 'IHDR') {
      if (length !== 13) {
        throw new StructureError('PNG IHDR has the wrong length')
      }
      const data = yield* read(13)
      crc = crc32(data, crc)
      ;({ colourType } = checkHeader(data, cap))
    } else {
      yield* skip(length, (piece) => {
        crc = crc32(piece, crc)
      })
    }
    const stored = u32be(yield* read(4), 0)
    if (stored !== crc >>> 0) {
      throw new StructureError(`PNG chunk ${type} fails its CRC`)
    }
    const critical = (typeBytes[0] ?? 0) < 97
    if (critical && !CRITICAL.has(type)) {
      throw new StructureError(`PNG has an unknown critical chunk ${type}`)
    }
    if (type === 'PLTE') {
      if (palette || idat > 0 || colourType === 0 || colourType === 4) {
        throw new StructureError('PNG PLTE is misplaced')
      }
      palette = true
    } else if (type === 'IDAT') {
      if (idat === 2 || (colourType === 3 && !palette)) {
        throw new StructureError('PNG IDAT is misplaced')
      }
      idat = 1
    } else if (idat === 1) {
      idat = 2
    }
    if (type === 'IEND') {
      if (length !== 0 || idat === 0) {
        throw new StructureError('PNG ends without image data')
      }
      return
    }
  }
}
