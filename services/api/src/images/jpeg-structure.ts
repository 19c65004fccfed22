import {
  atEnd,
  type Need,
  type Parser,
  read,
  StructureError,
  scan,
  skip,
  u16be,
} from './byte-walker.ts'
import type { PixelCap } from './pixel-cap.ts'

const SOI = 0xd8
const EOI = 0xd9
const SOS = 0xda
const DHT = 0xc4
const DAC = 0xcc
const DQT = 0xdb
const DRI = 0xdd
const COM = 0xfe
const RST0 = 0xd0
const RST7 = 0xd7
/** Frames libjpeg reads: sequential, progressive and lossless, Huffman or arithmetic coded. */
const FRAMES = new Set([0xc0, 0xc1, 0xc2, 0xc3, 0xc9, 0xca, 0xcb])

const isApplication = (marker: number) => marker >= 0xe0 && marker <= 0xef

/** The next marker's code: 0xFF, any fill 0xFF bytes, then the code. */
function* nextMarker(): Generator<Need, number, unknown> {
  let [byte] = yield* read(1)
  if (byte !== 0xff) {
    throw new StructureError('JPEG: a marker was expected')
  }
  while (byte === 0xff) {
    ;[byte] = yield* read(1)
  }
  if (byte === 0) {
    throw new StructureError('JPEG: a marker was expected')
  }
  return byte as number
}

function* segment(marker: number) {
  const length = u16be(yield* read(2), 0)
  if (length < 2) {
    throw new StructureError(`JPEG segment 0x${marker.toString(16)} has a length below 2`)
  }
  return length - 2
}

function checkFrame(data: Uint8Array, cap: PixelCap): number {
  const precision = data[0] ?? 0
  const height = u16be(data, 1)
  const width = u16be(data, 3)
  const components = data[5] ?? 0
  if (precision < 2 || precision > 16 || components < 1 || components > 4) {
    throw new StructureError('JPEG frame header is malformed')
  }
  if (data.byteLength !== 6 + 3 * components) {
    throw new StructureError('JPEG frame header has the wrong length')
  }
  if (width === 0 || height === 0) {
    // A height of 0 defers it to a DNL marker, which libjpeg does not read.
    throw new StructureError(`JPEG frame declares ${width}×${height}`)
  }
  cap(width, height)
  for (let index = 0; index < components; index++) {
    const sampling = data[7 + 3 * index] ?? 0
    const horizontal = sampling >> 4
    const vertical = sampling & 0x0f
    if (horizontal < 1 || horizontal > 4 || vertical < 1 || vertical > 4) {
      throw new StructureError('JPEG frame has an invalid sampling factor')
    }
    if ((data[8 + 3 * index] ?? 4) > 3) {
      throw new StructureError('JPEG frame names a quantisation table that cannot exist')
    }
  }
  return components
}

/**
 * Entropy-coded data up to the marker that ends it, whose code it returns. Inside, 0xFF may
 * only be followed by a stuffed 0x00, fill 0xFF, or the next restart marker in sequence.
 */
function* entropyCoded(): Generator<Need, number, unknown> {
  let afterFF = false
  let nextRestart = 0
  let marker = -1
  yield* scan((piece) => {
    const bytes = Buffer.from(piece.buffer, piece.byteOffset, piece.byteLength)
    let at = 0
    while (at < bytes.byteLength) {
      if (!afterFF) {
        const found = bytes.indexOf(0xff, at)
        if (found === -1) {
          return -1
        }
        afterFF = true
        at = found + 1
        continue
      }
      const code = bytes[at] as number
      at += 1
      if (code === 0xff) {
        continue
      }
      afterFF = false
      if (code === 0) {
        continue
      }
      if (code >= RST0 && code <= RST7) {
        if (code !== RST0 + nextRestart) {
          throw new StructureError('JPEG restart markers are out of sequence')
        }
        nextRestart = (nextRestart + 1) % 8
        continue
      }
      marker = code
      return at
    }
    return -1
  })
  return marker
}

/** One JPEG stream, SOI to EOI. */
function* jpegStream(cap: PixelCap): Parser {
  const start = yield* read(2)
  if (start[0] !== 0xff || start[1] !== SOI) {
    throw new StructureError('not a JPEG start of image')
  }
  let components = 0
  let scans = 0
  let marker = yield* nextMarker()
  while (marker !== EOI) {
    const length = yield* segment(marker)
    if (FRAMES.has(marker)) {
      if (components > 0) {
        throw new StructureError('JPEG has a second frame header')
      }
      components = checkFrame(yield* read(length), cap)
    } else if (marker === SOS) {
      const header = yield* read(length)
      const count = header[0] ?? 0
      if (components === 0 || count < 1 || count > components || length !== 4 + 2 * count) {
        throw new StructureError('JPEG scan header is malformed or comes before the frame')
      }
      scans += 1
      marker = yield* entropyCoded()
      continue
    } else if (
      marker === DHT ||
      marker === DQT ||
      marker === DRI ||
      marker === DAC ||
      marker === COM ||
      isApplication(marker)
    ) {
      yield* skip(length)
    } else {
      throw new StructureError(`JPEG has an unexpected marker 0x${marker.toString(16)}`)
    }
    marker = yield* nextMarker()
  }
  if (scans === 0) {
    throw new StructureError('JPEG ends without image data')
  }
}

/**
 * A JPEG: SOI; the marker segments, each within its declared length, up to a frame header
 * (SOFn: its size within the cap) and the scans; the entropy-coded data of each scan (stuffing
 * and restart markers in sequence) to the marker that ends it; EOI. After EOI only further
 * complete JPEG streams may follow (the gain map or preview images of MPF and Ultra HDR
 * files); anything else there is refused.
 *
 * Not found: a bit flipped inside entropy-coded data. JPEG carries no checksum over it and most
 * such flips still decode (libjpeg itself only warns and shows wrong pixels), so only the
 * sender's digest (x-content-sha256 on uploads) protects those bytes.
 */
export function* jpegStructure(cap: PixelCap): Parser {
  do {
    yield* jpegStream(cap)
  } while (!(yield* atEnd()))
}
