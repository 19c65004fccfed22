import { type Need, type Parser, read, StructureError, skip, u16le } from './byte-walker.ts'
import type { PixelCap } from './pixel-cap.ts'

const EXTENSION = 0x21
const IMAGE = 0x2c
const TRAILER = 0x3b
const COLOUR_TABLE_FLAG = 0x80

const colourTableBytes = (packed: number) =>
  packed & COLOUR_TABLE_FLAG ? 3 * 2 ** ((packed & 7) + 1) : 0

/** Data sub-blocks: a length byte, that many bytes, ..., until a zero length. */
function* subBlocks(): Generator<Need, void, unknown> {
  for (;;) {
    const [length = 0] = yield* read(1)
    if (length === 0) {
      return
    }
    yield* skip(length)
  }
}

/**
 * A GIF: the GIF87a/GIF89a header; the logical screen (its size within the cap) and global
 * colour table; then blocks — extensions and images (each image's size within the cap, its
 * colour table, an LZW code size of 2–8 and its data sub-blocks) — up to the trailer, with
 * nothing after it and at least one image before it.
 *
 * Not found: a bit flipped inside LZW data, which carries no checksum (one that hits a
 * sub-block's length byte usually breaks the block chain, and that is found).
 */
export function* gifStructure(cap: PixelCap): Parser {
  const header = yield* read(13)
  const signature = String.fromCharCode(...header.subarray(0, 6))
  if (signature !== 'GIF87a' && signature !== 'GIF89a') {
    throw new StructureError('not a GIF header')
  }
  cap(u16le(header, 6), u16le(header, 8))
  yield* skip(colourTableBytes(header[10] ?? 0))
  let images = 0
  for (;;) {
    const [introducer] = yield* read(1)
    if (introducer === TRAILER) {
      if (images === 0) {
        throw new StructureError('GIF has no image')
      }
      return
    }
    if (introducer === EXTENSION) {
      yield* read(1)
      yield* subBlocks()
    } else if (introducer === IMAGE) {
      const descriptor = yield* read(9)
      const width = u16le(descriptor, 4)
      const height = u16le(descriptor, 6)
      if (width === 0 || height === 0) {
        throw new StructureError('GIF image declares an empty frame')
      }
      cap(width, height)
      yield* skip(colourTableBytes(descriptor[8] ?? 0))
      const [codeSize = 0] = yield* read(1)
      if (codeSize < 2 || codeSize > 8) {
        throw new StructureError(`GIF LZW code size ${codeSize} is invalid`)
      }
      yield* subBlocks()
      images += 1
    } else {
      throw new StructureError(`GIF has an unknown block 0x${(introducer ?? 0).toString(16)}`)
    }
  }
}
