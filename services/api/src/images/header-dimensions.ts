export type ImageFormat = 'png' | 'jpeg' | 'webp' | 'gif'
export type Dimensions = { width: number; height: number }

const ascii = (bytes: Uint8Array, start: number, length: number) =>
  String.fromCharCode(...bytes.subarray(start, start + length))

function png(view: DataView, bytes: Uint8Array): Dimensions | undefined {
  if (bytes.byteLength < 24 || ascii(bytes, 12, 4) !== 'IHDR') {
    return undefined
  }
  return { width: view.getUint32(16), height: view.getUint32(20) }
}

function gif(view: DataView, bytes: Uint8Array): Dimensions | undefined {
  if (bytes.byteLength < 10) {
    return undefined
  }
  return { width: view.getUint16(6, true), height: view.getUint16(8, true) }
}

function webp(view: DataView, bytes: Uint8Array): Dimensions | undefined {
  if (bytes.byteLength < 30) {
    return undefined
  }
  const chunk = ascii(bytes, 12, 4)
  if (chunk === 'VP8X') {
    const width = 1 + (view.getUint32(24, true) & 0xffffff)
    const height = 1 + (view.getUint32(26, true) >>> 8)
    return { width, height }
  }
  if (chunk === 'VP8L' && bytes[20] === 0x2f) {
    const bits = view.getUint32(21, true)
    return { width: 1 + (bits & 0x3fff), height: 1 + ((bits >>> 14) & 0x3fff) }
  }
  if (chunk === 'VP8 ' && bytes[23] === 0x9d && bytes[24] === 0x01 && bytes[25] === 0x2a) {
    return { width: view.getUint16(26, true) & 0x3fff, height: view.getUint16(28, true) & 0x3fff }
  }
  return undefined
}

/** Start-of-frame markers carry the dimensions (C4 DHT, C8 JPG and CC DAC are not frames). */
const isStartOfFrame = (marker: number) =>
  marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc

function jpeg(view: DataView, bytes: Uint8Array): Dimensions | undefined {
  let offset = 2
  while (offset + 9 <= bytes.byteLength) {
    if (bytes[offset] !== 0xff) {
      return undefined
    }
    const marker = bytes[offset + 1] ?? 0
    if (marker === 0xff) {
      offset += 1
      continue
    }
    if (isStartOfFrame(marker)) {
      return { width: view.getUint16(offset + 7), height: view.getUint16(offset + 5) }
    }
    const standalone = marker === 0x01 || (marker >= 0xd0 && marker <= 0xd9)
    offset += standalone ? 2 : 2 + view.getUint16(offset + 2)
  }
  return undefined
}

const readers = { png, gif, webp, jpeg }

/**
 * Dimensions straight from the first bytes of the file, independent of the decoder, so an
 * image bomb is refused without handing it to libvips at all. Undefined when the header is
 * not within `head` (a JPEG with a large EXIF block before its frame header, say).
 */
export function readHeaderDimensions(
  head: Uint8Array,
  format: ImageFormat,
): Dimensions | undefined {
  const view = new DataView(head.buffer, head.byteOffset, head.byteLength)
  return readers[format](view, head)
}
