import {
  fourCC,
  type Need,
  type Parser,
  read,
  StructureError,
  skip,
  u16le,
  u24le,
  u32le,
} from './byte-walker.ts'
import type { PixelCap } from './pixel-cap.ts'

type Step<T = void> = Generator<Need, T, unknown>
type Size = { width: number; height: number }

const ANIMATION_FLAG = 0x02

/**
 * Walks the chunks filling exactly `budget` bytes, each within what is left and padded to an
 * even length; `visit` consumes a chunk's data (exactly its size).
 */
function* chunks(budget: number, visit: (type: string, size: number) => Step): Step {
  let left = budget
  while (left > 0) {
    if (left < 8) {
      throw new StructureError('WebP: a chunk header runs past its container')
    }
    const head = yield* read(8)
    const type = fourCC(head, 0)
    const size = u32le(head, 4)
    const padded = size + (size % 2)
    if (padded > left - 8) {
      throw new StructureError(`WebP chunk ${type} runs past its container`)
    }
    left -= 8 + padded
    yield* visit(type, size)
    yield* skip(padded - size)
  }
}

/** A lossy (VP8) key frame's header: frame tag, start code, dimensions. */
function* vp8(size: number, cap: PixelCap): Step<Size> {
  if (size < 10) {
    throw new StructureError('WebP VP8 chunk is too short')
  }
  const header = yield* read(10)
  const tag = u24le(header, 0)
  const keyFrame = (tag & 1) === 0
  const profile = (tag >> 1) & 7
  const shown = (tag >> 4) & 1
  const partitionLength = tag >>> 5
  if (!keyFrame || profile > 3 || !shown || partitionLength > size - 10) {
    throw new StructureError('WebP VP8 frame header is malformed')
  }
  if (header[3] !== 0x9d || header[4] !== 0x01 || header[5] !== 0x2a) {
    throw new StructureError('WebP VP8 start code is missing')
  }
  const width = u16le(header, 6) & 0x3fff
  const height = u16le(header, 8) & 0x3fff
  if (width === 0 || height === 0) {
    throw new StructureError('WebP VP8 declares an empty image')
  }
  cap(width, height)
  yield* skip(size - 10)
  return { width, height }
}

/** A lossless (VP8L) header: signature, 14-bit dimensions, version 0. */
function* vp8l(size: number, cap: PixelCap): Step<Size> {
  if (size < 5) {
    throw new StructureError('WebP VP8L chunk is too short')
  }
  const header = yield* read(5)
  const bits = u32le(header, 1)
  if (header[0] !== 0x2f || bits >>> 29 !== 0) {
    throw new StructureError('WebP VP8L header is malformed')
  }
  const width = (bits & 0x3fff) + 1
  const height = ((bits >>> 14) & 0x3fff) + 1
  cap(width, height)
  yield* skip(size - 5)
  return { width, height }
}

/** An alpha chunk's header: compression 0/1, a known filter and pre-processing, reserved 0. */
function* alpha(size: number): Step {
  if (size < 1) {
    throw new StructureError('WebP ALPH chunk is empty')
  }
  const [header = 0xff] = yield* read(1)
  const compression = header & 3
  const preprocessing = (header >> 4) & 3
  if (compression > 1 || preprocessing > 1 || header >> 6 !== 0) {
    throw new StructureError('WebP ALPH header is malformed')
  }
  yield* skip(size - 1)
}

/**
 * One image: an optional ALPH (before lossy data only) and one VP8 or VP8L chunk, as a still
 * image of an extended file or inside an animation frame. Other chunks are skipped.
 */
function imageChunks(cap: PixelCap) {
  let image: Size | undefined
  let alphaSeen = false
  function* visit(type: string, size: number): Step {
    if (type === 'VP8 ' || type === 'VP8L') {
      if (image || (alphaSeen && type === 'VP8L')) {
        throw new StructureError('WebP has a second image, or alpha before lossless data')
      }
      image = type === 'VP8 ' ? yield* vp8(size, cap) : yield* vp8l(size, cap)
    } else if (type === 'ALPH') {
      if (image || alphaSeen) {
        throw new StructureError('WebP ALPH is misplaced')
      }
      alphaSeen = true
      yield* alpha(size)
    } else if (type === 'VP8X' || type === 'ANIM' || type === 'ANMF') {
      throw new StructureError(`WebP ${type} is misplaced`)
    } else {
      yield* skip(size)
    }
  }
  return { visit, image: () => image }
}

function sameSize(image: Size | undefined, expected: Size, what: string) {
  if (!image || image.width !== expected.width || image.height !== expected.height) {
    throw new StructureError(`WebP ${what} does not match its image data`)
  }
}

/** An animation frame: its geometry within the canvas, then its own image chunks. */
function* frame(size: number, canvas: Size, cap: PixelCap): Step {
  if (size < 16) {
    throw new StructureError('WebP ANMF chunk is too short')
  }
  const header = yield* read(16)
  const x = u24le(header, 0) * 2
  const y = u24le(header, 3) * 2
  const geometry = { width: u24le(header, 6) + 1, height: u24le(header, 9) + 1 }
  if (x + geometry.width > canvas.width || y + geometry.height > canvas.height) {
    throw new StructureError('WebP animation frame lies outside the canvas')
  }
  const inner = imageChunks(cap)
  yield* chunks(size - 16, inner.visit)
  sameSize(inner.image(), geometry, 'animation frame')
}

/** VP8X: flags and canvas size, then a still image or ANIM and its frames. */
function* extended(size: number, budget: number, cap: PixelCap): Step {
  if (size !== 10) {
    throw new StructureError('WebP VP8X chunk has the wrong length')
  }
  const header = yield* read(10)
  const canvas = { width: u24le(header, 4) + 1, height: u24le(header, 7) + 1 }
  cap(canvas.width, canvas.height)
  const animated = ((header[0] ?? 0) & ANIMATION_FLAG) !== 0
  if (!animated) {
    const still = imageChunks(cap)
    yield* chunks(budget, still.visit)
    sameSize(still.image(), canvas, 'canvas')
    return
  }
  let animation = false
  let frames = 0
  yield* chunks(budget, function* (type, chunkSize) {
    if (type === 'ANIM') {
      if (animation || chunkSize !== 6) {
        throw new StructureError('WebP ANIM is malformed or repeated')
      }
      animation = true
      yield* skip(chunkSize)
    } else if (type === 'ANMF') {
      if (!animation) {
        throw new StructureError('WebP animation frame before ANIM')
      }
      frames += 1
      yield* frame(chunkSize, canvas, cap)
    } else if (type === 'VP8 ' || type === 'VP8L' || type === 'ALPH' || type === 'VP8X') {
      throw new StructureError(`WebP ${type} outside an animation frame`)
    } else {
      yield* skip(chunkSize)
    }
  })
  if (frames === 0) {
    throw new StructureError('WebP animation has no frames')
  }
}

/**
 * A WebP: RIFF header whose size is the file's size (so a truncated file, or bytes appended,
 * is refused), WEBP form, and a chunk walk in which every chunk lies within the file; a simple
 * file is one VP8 or VP8L chunk, an extended one a VP8X canvas with one still image or an
 * animation whose frames fit the canvas. Dimensions come from VP8X, VP8 and VP8L headers and
 * must agree, within the cap.
 *
 * Not found: a bit flipped inside the VP8/VP8L bitstream, which carries no checksum.
 */
export function* webpStructure(cap: PixelCap): Parser {
  const header = yield* read(12)
  const riffSize = u32le(header, 4)
  if (fourCC(header, 0) !== 'RIFF' || fourCC(header, 8) !== 'WEBP') {
    throw new StructureError('not a RIFF WEBP header')
  }
  if (riffSize < 12 || riffSize % 2 !== 0) {
    throw new StructureError(`WebP RIFF size ${riffSize} is impossible`)
  }
  const first = yield* read(8)
  const type = fourCC(first, 0)
  const size = u32le(first, 4)
  const padded = size + (size % 2)
  const budget = riffSize - 4 - 8 - padded
  if (budget < 0) {
    throw new StructureError(`WebP chunk ${type} runs past the RIFF size`)
  }
  if (type === 'VP8X') {
    yield* extended(size, budget, cap)
    return
  }
  if (type !== 'VP8 ' && type !== 'VP8L') {
    throw new StructureError(`WebP starts with chunk ${type}`)
  }
  yield* type === 'VP8 ' ? vp8(size, cap) : vp8l(size, cap)
  yield* skip(padded - size)
  // A simple file holds one image; chunks after it are left alone by decoders, images are not.
  yield* chunks(budget, function* (later, laterSize) {
    if (['VP8 ', 'VP8L', 'VP8X', 'ALPH', 'ANIM', 'ANMF'].includes(later)) {
      throw new StructureError(`WebP ${later} after a simple image`)
    }
    yield* skip(laterSize)
  })
}
