import { createHash } from 'node:crypto'
import { crc32, deflateSync } from 'node:zlib'
import sharp from 'sharp'
import { createIntegrityCheck } from '../integrity.ts'

/** Test inputs for the image checks, built in memory so no binary fixture is committed. */

export const solidImage = (width: number, height: number, channels: 3 | 4 = 3) =>
  sharp({ create: { width, height, channels, background: { r: 40, g: 120, b: 200, alpha: 0.5 } } })

function pngChunk(type: string, data: Uint8Array): Buffer {
  const typeAndData = Buffer.concat([Buffer.from(type, 'ascii'), data])
  const length = Buffer.alloc(4)
  length.writeUInt32BE(data.byteLength)
  const crc = Buffer.alloc(4)
  crc.writeUInt32BE(crc32(typeAndData))
  return Buffer.concat([length, typeAndData, crc])
}

/** A PNG signature and an IHDR chunk with a valid CRC, nothing else: a bomb's header. */
export function headerOnlyPng(width: number, height: number): Buffer {
  const header = Buffer.alloc(13)
  header.writeUInt32BE(width, 0)
  header.writeUInt32BE(height, 4)
  header[8] = 8
  header[9] = 6
  const signature = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])
  return Buffer.concat([signature, pngChunk('IHDR', header)])
}

/**
 * A complete, tiny PNG that declares a huge size: one short IDAT and IEND, so decoders read its
 * header happily and would only find out while inflating gigabytes of pixels.
 */
export function pngBomb(width: number, height: number): Buffer {
  return Buffer.concat([
    headerOnlyPng(width, height),
    pngChunk('IDAT', deflateSync(Buffer.alloc(1024))),
    pngChunk('IEND', new Uint8Array(0)),
  ])
}

/** Inserts a tEXt chunk right after IHDR, where metadata (and smuggled code) lives. */
export function withPngText(png: Uint8Array, keyword: string, value: string): Buffer {
  const afterHeader = 8 + 25
  const text = pngChunk('tEXt', Buffer.from(`${keyword}\0${value}`, 'latin1'))
  return Buffer.concat([png.subarray(0, afterHeader), text, png.subarray(afterHeader)])
}

/** Deterministic bytes that look random (sha256 in counter mode). */
export function pseudoRandomBytes(length: number, seed: string): Buffer {
  const blocks: Buffer[] = []
  for (let counter = 0; blocks.length * 32 < length; counter++) {
    blocks.push(createHash('sha256').update(`${seed}:${counter}`).digest())
  }
  return Buffer.concat(blocks).subarray(0, length)
}

/**
 * What the integrity check says about `bytes` fed in pieces of `pieceSize` (whole by default):
 * 'intact', or the error it throws.
 */
export function integrityVerdict(
  bytes: Uint8Array,
  options: { maxPixels?: number; pieceSize?: number } = {},
): 'intact' | Error {
  const check = createIntegrityCheck(options.maxPixels ? { maxPixels: options.maxPixels } : {})
  const size = options.pieceSize ?? Math.max(1, bytes.byteLength)
  for (let at = 0; at < bytes.byteLength; at += size) {
    check.push(bytes.subarray(at, at + size))
  }
  try {
    check.finish()
    return 'intact'
  } catch (error) {
    return error as Error
  }
}

/** The bytes with one bit flipped. */
export function flipBit(bytes: Uint8Array, bit: number): Buffer {
  const out = Buffer.from(bytes)
  const at = Math.floor(bit / 8)
  out[at] = (out[at] as number) ^ (1 << (bit % 8))
  return out
}

/** `count` offsets spread over 1 .. length-1, always including both ends. */
export function cutOffsets(length: number, count = 64): number[] {
  const offsets = new Set<number>([1, length - 1])
  for (let index = 1; index < count; index++) {
    offsets.add(Math.max(1, Math.floor((index * (length - 1)) / count)))
  }
  return [...offsets].sort((a, b) => a - b)
}
