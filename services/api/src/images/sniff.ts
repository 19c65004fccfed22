import { fileTypeFromBuffer } from 'file-type'
import type { ImageFormat } from './header-dimensions.ts'

export type ImageMediaType = 'image/png' | 'image/jpeg' | 'image/webp' | 'image/gif'

export type SniffedImage = { format: ImageFormat; mediaType: ImageMediaType; ext: string }

/** The allowlist, keyed by file-type's extension. APNG is a PNG to every decoder and browser. */
const allowed: Record<string, SniffedImage> = {
  png: { format: 'png', mediaType: 'image/png', ext: 'png' },
  apng: { format: 'png', mediaType: 'image/png', ext: 'png' },
  jpg: { format: 'jpeg', mediaType: 'image/jpeg', ext: 'jpg' },
  webp: { format: 'webp', mediaType: 'image/webp', ext: 'webp' },
  gif: { format: 'gif', mediaType: 'image/gif', ext: 'gif' },
}

/**
 * The type from the magic bytes, never from a client's header or file name. `detected` is what
 * file-type thinks it is when that is not an allowed image (undefined: not recognised at all,
 * which is what text, HTML and SVG look like).
 */
export async function sniffImage(
  head: Uint8Array,
): Promise<{ image: SniffedImage } | { image: undefined; detected: string | undefined }> {
  const found = await fileTypeFromBuffer(head)
  const image = found === undefined ? undefined : allowed[found.ext]
  return image ? { image } : { image: undefined, detected: found?.mime }
}
