import sharp from 'sharp'

/**
 * An edit mask, checked before any provider sees it: a PNG with an alpha channel (the transparent
 * pixels mark where to edit) and exactly the size of the first image, which is the one it applies
 * to. Reads headers only; no pixel is decoded.
 */

export type MaskProblem = 'not_png' | 'no_alpha' | 'size_mismatch'

export class MaskError extends Error {
  override name = 'MaskError'
  constructor(
    readonly problem: MaskProblem,
    message: string,
  ) {
    super(message)
  }
}

export type PixelSize = { width: number; height: number }

/**
 * @param image the first image: its size as displayed (the asset store records it that way), or
 *   its bytes, from which the displayed size is read
 * @returns the mask's size
 */
export async function validateEditMask(
  mask: Uint8Array,
  image: PixelSize | Uint8Array,
): Promise<PixelSize> {
  let metadata: sharp.Metadata | undefined
  try {
    metadata = await sharp(mask).metadata()
  } catch {
    metadata = undefined
  }
  if (metadata?.format !== 'png' || !metadata.width || !metadata.height) {
    const got = metadata?.format
      ? `got ${metadata.format.toUpperCase()}`
      : 'the file is not a readable image'
    throw new MaskError('not_png', `mask must be a PNG with an alpha channel; ${got}`)
  }
  if (!metadata.hasAlpha) {
    throw new MaskError(
      'no_alpha',
      'mask must be a PNG with an alpha channel; this PNG has none, so it marks nothing to edit',
    )
  }
  const maskSize = { width: metadata.width, height: metadata.height }
  const imageSize = image instanceof Uint8Array ? await displayedSize(image) : image
  if (maskSize.width !== imageSize.width || maskSize.height !== imageSize.height) {
    throw new MaskError(
      'size_mismatch',
      `mask is ${maskSize.width}x${maskSize.height} but the image is ${imageSize.width}x${imageSize.height}`,
    )
  }
  return maskSize
}

async function displayedSize(image: Uint8Array): Promise<PixelSize> {
  const { autoOrient } = await sharp(image).metadata()
  return { width: autoOrient.width, height: autoOrient.height }
}
