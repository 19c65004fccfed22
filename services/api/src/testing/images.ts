import { createHash } from 'node:crypto'
import sharp from 'sharp'

/**
 * Distinct real images made in memory, for tests in any package (sharp resolves from here, so
 * test/contract and test/e2e can import this file without depending on sharp themselves).
 */

export const sha256Hex = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex')

/** Deterministic bytes that look random (sha256 in counter mode). */
function noise(length: number, seed: string): Buffer {
  const blocks: Buffer[] = []
  for (let counter = 0; blocks.length * 32 < length; counter++) {
    blocks.push(createHash('sha256').update(`${seed}:${counter}`).digest())
  }
  return Buffer.concat(blocks).subarray(0, length)
}

/** A real PNG of random pixels, different for every seed. */
export function noisePng(seed: string, size = 32): Promise<Buffer> {
  return sharp(noise(size * size * 3, seed), { raw: { width: size, height: size, channels: 3 } })
    .png()
    .toBuffer()
}

export function noiseJpeg(seed: string, size = 32): Promise<Buffer> {
  return sharp(noise(size * size * 3, seed), { raw: { width: size, height: size, channels: 3 } })
    .jpeg()
    .toBuffer()
}

/**
 * A complete 1×1 GIF made only of bytes below 0x80, carrying `tag` in a plain-text extension so
 * every tag gives different bytes. Prism's proxy forwards bodies as UTF-8 text, which mangles
 * any other image format (stoplightio/prism#1321); these bytes survive the round trip.
 */
export function asciiGif(tag: string): Buffer {
  const text = Buffer.from(tag, 'ascii')
  if (text.byteLength > 127 || text.some((byte) => byte >= 0x80)) {
    throw new RangeError('the tag must be at most 127 ASCII characters')
  }
  return Buffer.concat([
    Buffer.from('GIF89a', 'ascii'),
    // 1×1, no global colour table (its flag would be 0x80).
    Buffer.from([1, 0, 1, 0, 0, 0, 0]),
    Buffer.from([0x21, 0x01, 12, 0, 0, 0, 0, 1, 0, 1, 0, 1, 1, 0, 0, text.byteLength]),
    text,
    Buffer.from([0]),
    Buffer.from([0x2c, 0, 0, 0, 0, 1, 0, 1, 0, 0]),
    Buffer.from([2, 2, 0x44, 1, 0]),
    Buffer.from([0x3b]),
  ])
}

/** A fully transparent PNG with an alpha channel: an edit mask that lets the whole image change. */
export function transparentPng(width: number, height: number): Promise<Buffer> {
  return sharp({
    create: { width, height, channels: 4, background: { r: 0, g: 0, b: 0, alpha: 0 } },
  })
    .png()
    .toBuffer()
}
