import { ImageTooLargeError } from './errors.ts'

/** 40 megapixels: above any image a provider returns, far below what a bomb needs. */
export const DEFAULT_MAX_PIXELS = 40_000_000

/** Throws ImageTooLargeError when a declared size is over the cap; called as headers are read. */
export type PixelCap = (width: number, height: number) => void

export function pixelCap(maxPixels: number): PixelCap {
  return (width, height) => {
    if (width * height > maxPixels) {
      throw new ImageTooLargeError(width, height, maxPixels)
    }
  }
}
