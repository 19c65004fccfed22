import { crc32 } from 'node:zlib'
import type { Dimensions, ImageFormat } from './header-dimensions.ts'

/**
 * The displayed dimensions of a PNG or JPEG whose whole header — everything a decoder reads
 * before the pixel data — lies in `head`, is well formed, and is plain: no EXIF (which can
 * rotate the displayed size), only chunk or marker kinds validated here. Such a header is one
 * sharp reads without complaint, giving the same size, so inspecting it needs no libvips call.
 *
 * Undefined means "ask the decoder": anything else (GIF, WebP, EXIF, an ICC profile, a header
 * that runs past `head`, an unknown chunk, a malformed field) is left to sharp's header read,
 * which then decides exactly as it always did. The test suite checks the promise both ways:
 * whatever this accepts, sharp reads with the same format and size.
 */
export function readPlainHeader(head: Uint8Array, format: ImageFormat): Dimensions | undefined {
  const view = new DataView(head.buffer, head.byteOffset, head.byteLength)
  if (format === 'png') {
    return plainPng(view, head)
  }
  if (format === 'jpeg') {
    return plainJpeg(view, head)
  }
  return undefined
}

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]
const MAX_PNG_CHUNK_LENGTH = 0x7fffffff
/** Sides up to JPEG's limit; libvips has its own coordinate limits, so larger ones ask sharp. */
const MAX_PLAIN_SIDE = 0xffff
/** Allowed bit depths per PNG colour type (0 grey, 2 RGB, 3 palette, 4 grey+alpha, 6 RGBA). */
const PNG_BIT_DEPTHS: Record<number, number[]> = {
  0: [1, 2, 4, 8, 16],
  2: [8, 16],
  3: [1, 2, 4, 8],
  4: [8, 16],
  6: [8, 16],
}

const chunkType = (bytes: Uint8Array, offset: number) =>
  String.fromCharCode(
    bytes[offset] ?? 0,
    bytes[offset + 1] ?? 0,
    bytes[offset + 2] ?? 0,
    bytes[offset + 3] ?? 0,
  )

/**
 * Signature, IHDR, then only PLTE, pHYs, sRGB and gAMA (each once, CRC checked, fields in
 * range, colour information before the palette) until the first IDAT: the chunks encoders such
 * as libvips, libpng and most generators write. eXIf, iCCP, text and everything else: undefined.
 */
function plainPng(view: DataView, bytes: Uint8Array): Dimensions | undefined {
  if (bytes.byteLength < 8 || PNG_SIGNATURE.some((byte, index) => bytes[index] !== byte)) {
    return undefined
  }
  const seen = new Set<string>()
  let dimensions: Dimensions | undefined
  let colourType = 0
  let bitDepth = 0
  let offset = 8
  while (offset + 8 <= bytes.byteLength) {
    const length = view.getUint32(offset)
    const type = chunkType(bytes, offset + 4)
    if (length > MAX_PNG_CHUNK_LENGTH) {
      return undefined
    }
    if (type === 'IDAT') {
      // The decoder's header read ends here; a palette image must have had its palette.
      return dimensions && (colourType !== 3 || seen.has('PLTE')) ? dimensions : undefined
    }
    const dataStart = offset + 8
    const end = dataStart + length + 4
    if (end > bytes.byteLength || seen.has(type)) {
      return undefined
    }
    if (
      crc32(bytes.subarray(offset + 4, dataStart + length)) !== view.getUint32(dataStart + length)
    ) {
      return undefined
    }
    if ((offset === 8) !== (type === 'IHDR')) {
      return undefined
    }
    seen.add(type)
    switch (type) {
      case 'IHDR': {
        const width = view.getUint32(dataStart)
        const height = view.getUint32(dataStart + 4)
        bitDepth = bytes[dataStart + 8] ?? 0
        colourType = bytes[dataStart + 9] ?? 0
        const valid =
          length === 13 &&
          width >= 1 &&
          width <= MAX_PLAIN_SIDE &&
          height >= 1 &&
          height <= MAX_PLAIN_SIDE &&
          (PNG_BIT_DEPTHS[colourType]?.includes(bitDepth) ?? false) &&
          bytes[dataStart + 10] === 0 &&
          bytes[dataStart + 11] === 0 &&
          (bytes[dataStart + 12] === 0 || bytes[dataStart + 12] === 1)
        if (!valid) {
          return undefined
        }
        dimensions = { width, height }
        break
      }
      case 'PLTE': {
        const entries = length / 3
        const valid =
          (colourType === 2 || colourType === 3 || colourType === 6) &&
          Number.isInteger(entries) &&
          entries >= 1 &&
          entries <= 256 &&
          (colourType !== 3 || entries <= 2 ** bitDepth)
        if (!valid) {
          return undefined
        }
        break
      }
      case 'pHYs':
        if (length !== 9 || (bytes[dataStart + 8] ?? 2) > 1) {
          return undefined
        }
        break
      case 'sRGB':
        if (length !== 1 || (bytes[dataStart] ?? 4) > 3 || seen.has('PLTE')) {
          return undefined
        }
        break
      case 'gAMA':
        if (length !== 4 || view.getUint32(dataStart) === 0 || seen.has('PLTE')) {
          return undefined
        }
        break
      default:
        return undefined
    }
    offset = end
  }
  return undefined
}

/** Baseline, extended sequential and progressive Huffman frames: what libjpeg reads. */
const JPEG_FRAMES = new Set([0xc0, 0xc1, 0xc2])
const DHT = 0xc4
const SOS = 0xda
const DQT = 0xdb
const DRI = 0xdd
const COM = 0xfe
const APP0 = 0xe0
const APP1 = 0xe1
const APP15 = 0xef

type Frame = Dimensions & { components: number[] }

function plainFrame(view: DataView, bytes: Uint8Array, start: number, length: number) {
  const count = bytes[start + 5] ?? 0
  const frame: Frame = {
    height: view.getUint16(start + 1),
    width: view.getUint16(start + 3),
    components: [],
  }
  if (
    bytes[start] !== 8 ||
    frame.width === 0 ||
    frame.height === 0 ||
    (count !== 1 && count !== 3) ||
    length !== 8 + 3 * count
  ) {
    return undefined
  }
  for (let index = 0; index < count; index++) {
    const at = start + 6 + 3 * index
    const id = bytes[at] ?? 0
    const sampling = bytes[at + 1] ?? 0
    const horizontal = sampling >> 4
    const vertical = sampling & 0x0f
    if (
      frame.components.includes(id) ||
      horizontal < 1 ||
      horizontal > 4 ||
      vertical < 1 ||
      vertical > 4 ||
      (bytes[at + 2] ?? 4) > 3
    ) {
      return undefined
    }
    frame.components.push(id)
  }
  return frame
}

/** Quantisation tables: id 0–3, 8- or 16-bit entries, exactly filling the segment. */
function plainQuantTables(bytes: Uint8Array, start: number, end: number): boolean {
  let at = start
  while (at < end) {
    const spec = bytes[at] ?? 0xff
    if (spec >> 4 > 1 || (spec & 0x0f) > 3) {
      return false
    }
    at += 1 + (spec >> 4 === 1 ? 128 : 64)
  }
  return at === end && end > start
}

/** Huffman tables: DC or AC, id 0–3, at most 256 symbols, exactly filling the segment. */
function plainHuffmanTables(bytes: Uint8Array, start: number, end: number): boolean {
  let at = start
  while (at < end) {
    const spec = bytes[at] ?? 0xff
    if (spec >> 4 > 1 || (spec & 0x0f) > 3 || at + 17 > end) {
      return false
    }
    let symbols = 0
    for (let index = 1; index <= 16; index++) {
      symbols += bytes[at + index] ?? 0
    }
    if (symbols > 256) {
      return false
    }
    at += 17 + symbols
  }
  return at === end && end > start
}

function plainScan(bytes: Uint8Array, start: number, length: number, frame: Frame): boolean {
  const count = bytes[start] ?? 0
  if (count < 1 || count > frame.components.length || length !== 6 + 2 * count) {
    return false
  }
  const scanned = new Set<number>()
  for (let index = 0; index < count; index++) {
    const id = bytes[start + 1 + 2 * index] ?? -1
    // libjpeg refuses a component the frame lacks, or one named twice in the scan.
    if (!frame.components.includes(id) || scanned.has(id)) {
      return false
    }
    scanned.add(id)
  }
  return true
}

/**
 * SOI, then only quantisation and Huffman tables, a restart interval, comments and application
 * segments other than EXIF, one 8-bit greyscale or three-component frame (SOF0/1/2), up to the
 * first scan header, all within `head`. Fill bytes, EXIF, other frame types, CMYK: undefined.
 */
function plainJpeg(view: DataView, bytes: Uint8Array): Dimensions | undefined {
  if (bytes[0] !== 0xff || bytes[1] !== 0xd8) {
    return undefined
  }
  let frame: Frame | undefined
  let offset = 2
  while (offset + 4 <= bytes.byteLength) {
    const marker = bytes[offset + 1] ?? 0
    const length = view.getUint16(offset + 2)
    const start = offset + 4
    const end = offset + 2 + length
    if (bytes[offset] !== 0xff || length < 2 || end > bytes.byteLength) {
      return undefined
    }
    if (JPEG_FRAMES.has(marker)) {
      if (frame) {
        return undefined
      }
      frame = plainFrame(view, bytes, start, length)
      if (!frame) {
        return undefined
      }
    } else if (marker === SOS) {
      return frame && plainScan(bytes, start, length, frame)
        ? { width: frame.width, height: frame.height }
        : undefined
    } else if (marker === DQT) {
      if (!plainQuantTables(bytes, start, end)) {
        return undefined
      }
    } else if (marker === DHT) {
      if (!plainHuffmanTables(bytes, start, end)) {
        return undefined
      }
    } else if (marker === DRI) {
      if (length !== 4) {
        return undefined
      }
    } else if (marker === APP1) {
      // EXIF may carry an orientation, which changes the displayed size: the decoder decides.
      const exif = String.fromCharCode(...bytes.subarray(start, Math.min(start + 4, end)))
      if (exif === 'Exif') {
        return undefined
      }
    } else if (!((marker >= APP0 && marker <= APP15) || marker === COM)) {
      return undefined
    }
    offset = end
  }
  return undefined
}
