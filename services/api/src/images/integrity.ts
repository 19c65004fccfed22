import { concatBytes } from '../bytes.ts'
import { ByteWalker, type Parser, StructureError } from './byte-walker.ts'
import { ImageDecodeError, ImageTooLargeError } from './errors.ts'
import { gifStructure } from './gif-structure.ts'
import { jpegStructure } from './jpeg-structure.ts'
import { DEFAULT_MAX_PIXELS, type PixelCap, pixelCap } from './pixel-cap.ts'
import { pngStructure } from './png-structure.ts'
import { webpStructure } from './webp-structure.ts'

/** Enough leading bytes to tell the four formats apart. */
const SIGNATURE_BYTES = 12

const ascii = (bytes: Uint8Array, start: number, end: number) =>
  String.fromCharCode(...bytes.subarray(start, end))

function parserFor(head: Uint8Array, cap: PixelCap): Parser | undefined {
  if (head[0] === 0x89 && ascii(head, 1, 4) === 'PNG') {
    return pngStructure(cap)
  }
  if (head[0] === 0xff && head[1] === 0xd8 && head[2] === 0xff) {
    return jpegStructure(cap)
  }
  if (ascii(head, 0, 4) === 'RIFF' && ascii(head, 8, 12) === 'WEBP') {
    return webpStructure(cap)
  }
  if (ascii(head, 0, 4) === 'GIF8') {
    return gifStructure(cap)
  }
  return undefined
}

/**
 * The integrity check every image passes before its bytes are recorded as an asset, whether a
 * client uploaded them or a provider returned them: the file's structure is walked as the
 * bytes go by, never its pixels decoded (see png-structure.ts, jpeg-structure.ts,
 * webp-structure.ts, gif-structure.ts for what each format's walk proves and what it cannot).
 * Truncation, bytes after the end, a damaged header or chunk (in a PNG, any flipped bit) and a
 * declared size over `maxPixels` are refused. Memory stays at a few header fields whatever the
 * file's size, so an upload can be checked while it streams to disk.
 */
export type IntegrityCheck = {
  /** Feeds the next bytes; never throws (a fault is kept for `finish`). */
  push(piece: Uint8Array): void
  /** The bytes are all there: throws ImageTooLargeError, or ImageDecodeError for any fault. */
  finish(): void
}

export function createIntegrityCheck(options: { maxPixels?: number } = {}): IntegrityCheck {
  const cap = pixelCap(options.maxPixels ?? DEFAULT_MAX_PIXELS)
  let walker: ByteWalker | undefined
  let unknown = false
  let waiting: Uint8Array[] = []
  let waitingBytes = 0

  /** Picks the format from the first bytes, then hands them to its walk. */
  function start() {
    const pieces = waiting
    waiting = []
    const head = pieces.length === 1 ? (pieces[0] as Uint8Array) : concatBytes(pieces, waitingBytes)
    const parser = parserFor(head, cap)
    if (parser === undefined) {
      unknown = true
      return
    }
    walker = new ByteWalker(parser)
    walker.push(head)
  }

  return {
    push(piece) {
      if (walker) {
        walker.push(piece)
      } else if (!unknown) {
        waiting.push(piece)
        waitingBytes += piece.byteLength
        if (waitingBytes >= SIGNATURE_BYTES) {
          start()
        }
      }
    },
    finish() {
      if (!walker && !unknown) {
        start()
      }
      try {
        if (!walker) {
          throw new StructureError('not a PNG, JPEG, WebP or GIF')
        }
        walker.finish()
      } catch (error) {
        if (error instanceof ImageTooLargeError) {
          throw error
        }
        throw new ImageDecodeError({ cause: error })
      }
    },
  }
}

/**
 * The integrity check over bytes in memory (a provider's image). Async only so that it can
 * stand where a check runs beside the store's write; the work itself is a CRC-speed pass.
 */
export async function assertIntact(
  bytes: Uint8Array,
  options: { maxPixels?: number } = {},
): Promise<void> {
  const check = createIntegrityCheck(options)
  check.push(bytes)
  check.finish()
}

/**
 * Passes a stream's chunks on unchanged while `check` sees each of them, so an upload is
 * checked as it is written; the caller asks `check.finish()` once the stream has been stored.
 */
export async function* checkedWhileRead(
  source: AsyncIterable<Uint8Array>,
  check: IntegrityCheck,
): AsyncGenerator<Uint8Array, void, undefined> {
  for await (const chunk of source) {
    check.push(chunk)
    yield chunk
  }
}
