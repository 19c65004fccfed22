import { createCipheriv, createHash, type Hash } from 'node:crypto'
import { crc32, deflateSync } from 'node:zlib'

/**
 * Deterministic, incompressible test images. Bytes come from AES-256-CTR over zeros keyed by
 * the seed: a seeded PRNG fast enough (GB/s) to generate a 1 GiB body twice, once to hash it
 * and once to send it, without ever holding it in memory.
 */
export class Prng {
  readonly #cipher
  constructor(seed: string | number) {
    const key = createHash('sha256').update(`imagegate-bench:${seed}`).digest()
    this.#cipher = createCipheriv('aes-256-ctr', key, Buffer.alloc(16))
  }
  next(length: number): Buffer {
    return this.#cipher.update(Buffer.alloc(length))
  }
}

const SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])
/** Private, ancillary, safe-to-copy: decoders skip it. */
const FILLER_TYPE = 'beNc'
const MARKER_TYPE = 'tEXt'
const MARKER_KEYWORD = 'bench\0'
const MARKER_DIGITS = 20
/** A marker chunk's full size: length + type + keyword + counter + crc. */
export const MARKER_CHUNK_BYTES = 12 + MARKER_KEYWORD.length + MARKER_DIGITS
const IEND = chunk('IEND', Buffer.alloc(0))

export function chunk(type: string, data: Uint8Array): Buffer {
  const out = Buffer.alloc(12 + data.byteLength)
  out.writeUInt32BE(data.byteLength, 0)
  out.write(type, 4, 'latin1')
  out.set(data, 8)
  out.writeUInt32BE(crc32(out.subarray(4, 8 + data.byteLength)) >>> 0, 8 + data.byteLength)
  return out
}

/** A tEXt chunk carrying a counter: the cheap way to make every upload distinct bytes. */
export function markerChunk(counter: number): Buffer {
  return chunk(
    MARKER_TYPE,
    Buffer.from(`${MARKER_KEYWORD}${String(counter).padStart(MARKER_DIGITS, '0')}`, 'latin1'),
  )
}

/** zlib (stored blocks) size for `length` raw bytes: header + 5 bytes per block + adler. */
const storedSize = (length: number) => 2 + length + 5 * Math.max(1, Math.ceil(length / 65535)) + 4

/** Fixed overhead around the pixels: signature, IHDR, IDAT framing, marker, IEND. */
const FRAME_BYTES = SIGNATURE.length + 25 + 12 + MARKER_CHUNK_BYTES + 12

/**
 * Picks RGB dimensions whose stored-deflate PNG fits in `totalBytes` with at least a filler
 * chunk's framing (12 bytes) to spare, capped at `maxPixels` so huge bodies stay valid images.
 */
function dimensionsFor(totalBytes: number, maxPixels: number) {
  const budget = totalBytes - FRAME_BYTES - 12
  const side = Math.max(
    1,
    Math.min(Math.floor(Math.sqrt(budget / 3)), Math.floor(Math.sqrt(maxPixels))),
  )
  let width = side
  let height = side
  while (height > 1 && storedSize(height * (width * 3 + 1)) > budget) {
    height--
  }
  while (height * width < maxPixels && storedSize((height + 1) * (width * 3 + 1)) <= budget) {
    height++
  }
  if (storedSize(height * (width * 3 + 1)) > budget) {
    width = 1
    height = 1
  }
  return { width, height }
}

/**
 * A PNG of exactly `totalBytes`: noise pixels (stored deflate, so as large as its pixels), a
 * filler chunk for what the pixels do not cover, then a `tEXt` marker with a counter and IEND.
 * `prefix` (signature .. filler) is fixed per seed; `markerChunk(n) + suffix` varies per upload.
 * The filler is streamed: `fillerBytes` of PRNG output, generated on demand.
 */
export type PngPlan = {
  totalBytes: number
  width: number
  height: number
  /** Signature + IHDR + IDAT. */
  pixels: Buffer
  /** Whether a filler chunk sits between IDAT and the marker, and its data bytes. */
  hasFiller: boolean
  fillerBytes: number
  seed: string
}

export function planPng(totalBytes: number, seed: string, maxPixels = 2048 * 2048): PngPlan {
  const { width, height } = dimensionsFor(totalBytes, maxPixels)
  const rowLength = width * 3 + 1
  const raw = Buffer.alloc(rowLength * height)
  const noise = new Prng(`${seed}:pixels`).next(raw.byteLength)
  for (let row = 0; row < height; row++) {
    // Filter byte 0 (None) starts each row.
    noise.copy(raw, row * rowLength + 1, row * rowLength + 1, (row + 1) * rowLength)
  }
  const header = Buffer.alloc(13)
  header.writeUInt32BE(width, 0)
  header.writeUInt32BE(height, 4)
  header.set([8, 2, 0, 0, 0], 8)
  const pixels = Buffer.concat([
    SIGNATURE,
    chunk('IHDR', header),
    chunk('IDAT', deflateSync(raw, { level: 0 })),
  ])
  const left = totalBytes - pixels.byteLength - MARKER_CHUNK_BYTES - IEND.byteLength
  if (left !== 0 && left < 12) {
    throw new Error(`cannot lay out a ${totalBytes}-byte PNG (${left} bytes left over)`)
  }
  const hasFiller = left !== 0
  return {
    totalBytes,
    width,
    height,
    pixels,
    hasFiller,
    fillerBytes: hasFiller ? left - 12 : 0,
    seed,
  }
}

const FILLER_PIECE = 1024 * 1024

/** The whole image as a stream of pieces (at most 1 MiB each); deterministic per plan + counter. */
export function* pngPieces(plan: PngPlan, counter: number): Generator<Buffer> {
  yield plan.pixels
  if (plan.hasFiller) {
    const head = Buffer.alloc(8)
    head.writeUInt32BE(plan.fillerBytes, 0)
    head.write(FILLER_TYPE, 4, 'latin1')
    yield head
    let crc = crc32(head.subarray(4))
    const prng = new Prng(`${plan.seed}:filler`)
    for (let left = plan.fillerBytes; left > 0; left -= FILLER_PIECE) {
      const piece = prng.next(Math.min(FILLER_PIECE, left))
      crc = crc32(piece, crc)
      yield piece
    }
    const tail = Buffer.alloc(4)
    tail.writeUInt32BE(crc >>> 0, 0)
    yield tail
  }
  yield markerChunk(counter)
  yield IEND
}

/** The whole image in memory (small and medium sizes only). */
export function pngBytes(plan: PngPlan, counter: number): Buffer {
  return Buffer.concat([...pngPieces(plan, counter)])
}

/**
 * For repeated uploads of one plan: the hash state after the fixed part, so each distinct
 * upload (a new marker) costs hashing ~50 bytes, not the whole body.
 */
export function fixedPart(plan: PngPlan): { bytes: Buffer; hashState: Hash } {
  const pieces = [...pngPieces(plan, 0)]
  // The last two pieces are the marker and IEND; everything before them is fixed.
  const bytes = Buffer.concat(pieces.slice(0, -2))
  return { bytes, hashState: createHash('sha256').update(bytes) }
}

export function variablePart(counter: number): Buffer {
  return Buffer.concat([markerChunk(counter), IEND])
}
