/**
 * Errors of image inspection. Plain classes; the API maps them in one place
 * (UnsupportedImageError → 415 unsupported_media_type, ImageTooLargeError → 413
 * payload_too_large, ImageDecodeError → whatever the caller's context makes it: a bad upload or
 * a provider's bad response).
 */
export type UnsupportedImageReason =
  /** The magic bytes are not PNG, JPEG, WebP or GIF (or are not recognised at all). */
  | 'not_allowed'
  /** An allowed image signature, but markup in the first or last bytes: a polyglot. */
  | 'embedded_markup'
  /** The decoder reads the header as something else, or cannot read it at all. */
  | 'unreadable_header'

export class UnsupportedImageError extends Error {
  override name = 'UnsupportedImageError'
  constructor(
    readonly reason: UnsupportedImageReason,
    /** What the bytes were detected as, when known (e.g. `application/pdf`). */
    readonly detected?: string,
    options?: { cause?: unknown },
  ) {
    super(messages[reason](detected), options)
  }
}

const messages: Record<UnsupportedImageReason, (detected?: string) => string> = {
  not_allowed: (detected) =>
    `Only PNG, JPEG, WebP and GIF images are accepted${detected ? `; this is ${detected}` : ''}`,
  embedded_markup: () => 'The image contains embedded markup and is refused',
  unreadable_header: () => 'The image header could not be read',
}

/** width × height over the limit, found from the header before any pixel is decoded. */
export class ImageTooLargeError extends Error {
  override name = 'ImageTooLargeError'
  constructor(
    readonly width: number,
    readonly height: number,
    readonly maxPixels: number,
  ) {
    super(`The image is ${width}×${height} pixels; the limit is ${maxPixels} pixels`)
  }
}

/** The image does not fully decode: truncated, corrupt, or not really an image. */
export class ImageDecodeError extends Error {
  override name = 'ImageDecodeError'
  constructor(options?: { cause?: unknown }) {
    super('The image does not decode', options)
  }
}
