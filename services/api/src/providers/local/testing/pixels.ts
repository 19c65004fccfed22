import sharp from 'sharp'
import type { Rect } from '../raster.ts'

/** Test-only: decode any image to packed RGB so assertions can read pixels. */
export async function decodeRgb(bytes: Uint8Array) {
  const { data, info } = await sharp(bytes)
    .removeAlpha()
    .raw()
    .toBuffer({ resolveWithObject: true })
  return { data, width: info.width, height: info.height }
}

export type DecodedImage = Awaited<ReturnType<typeof decodeRgb>>

export function pixelAt(image: DecodedImage, x: number, y: number): [number, number, number] {
  const i = (y * image.width + x) * 3
  return [image.data[i] ?? 0, image.data[i + 1] ?? 0, image.data[i + 2] ?? 0]
}

export function countPixels(
  image: DecodedImage,
  region: Rect,
  match: (r: number, g: number, b: number) => boolean,
): number {
  let count = 0
  for (let y = region.y; y < region.y + region.height; y++) {
    for (let x = region.x; x < region.x + region.width; x++) {
      const [r, g, b] = pixelAt(image, x, y)
      if (match(r, g, b)) {
        count++
      }
    }
  }
  return count
}

export function meanColor(image: DecodedImage, region: Rect): [number, number, number] {
  let red = 0
  let green = 0
  let blue = 0
  for (let y = region.y; y < region.y + region.height; y++) {
    for (let x = region.x; x < region.x + region.width; x++) {
      const [r, g, b] = pixelAt(image, x, y)
      red += r
      green += g
      blue += b
    }
  }
  const area = region.width * region.height
  return [red / area, green / area, blue / area]
}

export async function solidPng(width: number, height: number, color: [number, number, number]) {
  const [r, g, b] = color
  return new Uint8Array(
    await sharp({ create: { width, height, channels: 3, background: { r, g, b } } })
      .png()
      .toBuffer(),
  )
}
