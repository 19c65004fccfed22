import sharp from 'sharp'
import { ImageTooLargeError, UnsupportedImageError } from './errors.ts'
import { readHeaderDimensions } from './header-dimensions.ts'
import { edgesOf, type ImageInput } from './image-edges.ts'
import { findMarkup } from './markup.ts'
import { DEFAULT_MAX_PIXELS } from './pixel-cap.ts'
import { readPlainHeader } from './plain-header.ts'
import { type ImageMediaType, sniffImage } from './sniff.ts'

export type { ImageInput } from './image-edges.ts'
export type { ImageMediaType } from './sniff.ts'

export { DEFAULT_MAX_PIXELS }

export type InspectedImage = {
  mediaType: ImageMediaType
  /** As displayed, i.e. after the EXIF orientation is applied. */
  width: number
  height: number
  ext: string
}

function assertWithinPixels(width: number, height: number, maxPixels: number) {
  if (width * height > maxPixels) {
    throw new ImageTooLargeError(width, height, maxPixels)
  }
}

/**
 * Decides what an uploaded or generated file is, from its bytes alone, without decoding pixels:
 * the magic bytes must be PNG, JPEG, WebP or GIF; neither end may carry markup; the header's
 * width × height must be within `maxPixels` (checked by our own header parser first, so a bomb
 * never reaches libvips, then by sharp's header read, which must agree on the format). A plain
 * PNG or JPEG header held whole in `head` (see plain-header.ts) is answered from those bytes: it
 * is one sharp reads alike, and reading it costs no file open and no libvips call.
 */
export async function inspectImage(
  input: ImageInput,
  options: { maxPixels?: number } = {},
): Promise<InspectedImage> {
  const maxPixels = options.maxPixels ?? DEFAULT_MAX_PIXELS
  const { head, tail } = await edgesOf(input)
  const sniffed = await sniffImage(head)
  if (sniffed.image === undefined) {
    throw new UnsupportedImageError('not_allowed', sniffed.detected)
  }
  const { image } = sniffed
  if (findMarkup(head) !== undefined || findMarkup(tail) !== undefined) {
    throw new UnsupportedImageError('embedded_markup', image.mediaType)
  }
  const fromHeader = readHeaderDimensions(head, image.format)
  if (fromHeader) {
    assertWithinPixels(fromHeader.width, fromHeader.height, maxPixels)
  }
  const plain = readPlainHeader(head, image.format)
  if (plain) {
    assertWithinPixels(plain.width, plain.height, maxPixels)
    return { mediaType: image.mediaType, width: plain.width, height: plain.height, ext: image.ext }
  }
  const source = input.bytes !== undefined ? input.bytes : input.path
  let metadata: sharp.Metadata
  try {
    // Header only: metadata() does not decode pixels, so the pixel cap is ours to apply.
    metadata = await sharp(source, { limitInputPixels: false }).metadata()
  } catch (error) {
    throw new UnsupportedImageError('unreadable_header', image.mediaType, { cause: error })
  }
  if (metadata.format !== image.format || !metadata.width || !metadata.height) {
    throw new UnsupportedImageError('unreadable_header', image.mediaType)
  }
  assertWithinPixels(metadata.width, metadata.height, maxPixels)
  const displayed = metadata.autoOrient ?? metadata
  return {
    mediaType: image.mediaType,
    width: displayed.width,
    height: displayed.height,
    ext: image.ext,
  }
}
