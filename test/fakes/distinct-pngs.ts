import { crc32 } from 'node:zlib'

const KEYWORD = 'imagegate-call\0'
const DIGITS = 16
const IEND_BYTES = 12

function markerChunk(index: number): Buffer {
  const data = Buffer.from(`${KEYWORD}${String(index).padStart(DIGITS, '0')}`, 'latin1')
  const out = Buffer.alloc(12 + data.byteLength)
  out.writeUInt32BE(data.byteLength, 0)
  out.write('tEXt', 4, 'latin1')
  data.copy(out, 8)
  out.writeUInt32BE(crc32(out.subarray(4, 8 + data.byteLength)) >>> 0, 8 + data.byteLength)
  return out
}

/**
 * Base64 of a different PNG for every call index: the encoder's PNGs of `pool` in turn, each
 * with a tEXt chunk carrying the index just before IEND, so no two calls send the same bytes
 * while the header, the pixels and their compressed stream stay exactly as the encoder wrote
 * them. Costs a few dozen bytes of base64 per call: everything before the last whole base64
 * group of the image's body is encoded once.
 */
export function distinctPngs(pool: Uint8Array[]): (index: number) => string {
  if (pool.length === 0) {
    throw new RangeError('the pool needs at least one PNG')
  }
  const parts = pool.map((png) => {
    const iend = png.byteLength - IEND_BYTES
    if (Buffer.from(png.subarray(iend + 4, iend + 8)).toString('latin1') !== 'IEND') {
      throw new RangeError('every PNG of the pool must end with IEND')
    }
    const whole = iend - (iend % 3)
    return {
      body: Buffer.from(png.subarray(0, whole)).toString('base64'),
      bodyTail: Buffer.from(png.subarray(whole, iend)),
      iend: Buffer.from(png.subarray(iend)),
    }
  })
  return (index) => {
    const { body, bodyTail, iend } = parts[index % parts.length] as (typeof parts)[number]
    return body + Buffer.concat([bodyTail, markerChunk(index), iend]).toString('base64')
  }
}
