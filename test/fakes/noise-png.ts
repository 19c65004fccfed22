import { crc32, deflateSync } from 'node:zlib'

/**
 * A valid RGB PNG of seeded noise. Noise does not compress, so the file is as large as its pixels
 * (720×720 → about 1.5 MB), like a real photo-grade generation and unlike a flat test square.
 */
export function noisePng(width = 720, height = 720, seed = 0x1badf00d): Uint8Array {
  const rowLength = width * 3 + 1
  const raw = new Uint8Array(rowLength * height)
  let state = seed >>> 0 || 1
  for (let row = 0; row < height; row++) {
    // Filter byte 0 ("None") starts each row; the rest is xorshift32 output.
    for (let index = row * rowLength + 1; index < (row + 1) * rowLength; index++) {
      state ^= state << 13
      state ^= state >>> 17
      state ^= state << 5
      raw[index] = state & 0xff
    }
  }
  const header = new Uint8Array(13)
  const view = new DataView(header.buffer)
  view.setUint32(0, width)
  view.setUint32(4, height)
  header.set([8, 2, 0, 0, 0], 8) // 8-bit depth, truecolour, deflate, adaptive filtering, no interlace
  return concat([
    Uint8Array.of(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a),
    chunk('IHDR', header),
    chunk('IDAT', deflateSync(raw, { level: 1 })),
    chunk('IEND', new Uint8Array(0)),
  ])
}

function chunk(type: string, data: Uint8Array): Uint8Array {
  const typed = concat([new TextEncoder().encode(type), data])
  const out = new Uint8Array(12 + data.length)
  const view = new DataView(out.buffer)
  view.setUint32(0, data.length)
  out.set(typed, 4)
  view.setUint32(8 + data.length, crc32(typed) >>> 0)
  return out
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((total, part) => total + part.length, 0))
  let offset = 0
  for (const part of parts) {
    out.set(part, offset)
    offset += part.length
  }
  return out
}
