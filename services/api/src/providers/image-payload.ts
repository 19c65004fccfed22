import { decodeStrictBase64, isStandardBase64Bytes } from './base64.ts'
import { badResponse, type Fetch, type FetchResponse } from './http-errors.ts'
import { Base64Value } from './json-bytes.ts'
import { type ProviderImage, type ProviderName, UpstreamFailure } from './types.ts'

const BASE64 = /^[A-Za-z0-9+/_-]*={0,2}$/

/**
 * Strict base64 → image bytes. Buffer.from(…, 'base64') silently skips bad characters and decodes
 * a cut-off string into a cut-off file, so the text is checked first and the bytes after.
 */
export function decodeImageBase64(provider: ProviderName, text: string, what: string): Uint8Array {
  return readImageBase64(provider, text, what).bytes
}

/**
 * Like `decodeImageBase64`, and keeps the text as `base64` when it is already standard padded
 * base64 (what providers send), so an answer can pass it on instead of encoding the bytes again.
 */
export function readImageBase64(
  provider: ProviderName,
  text: string | Base64Value,
  what: string,
): Pick<ProviderImage, 'bytes' | 'base64' | 'ownedBuffers'> {
  if (text instanceof Base64Value) {
    // Checked and decoded while the answer was parsed, both into memory of this answer's own.
    checkImageBytes(provider, text.decoded, what)
    const ownedBuffers = [text.decoded.buffer, text.ascii.buffer]
    return isStandardBase64Bytes(text.ascii)
      ? { bytes: text.decoded, base64: text.ascii, ownedBuffers }
      : { bytes: text.decoded, ownedBuffers }
  }
  const fast = decodeStrictBase64(text)
  if (fast !== undefined) {
    checkImageBytes(provider, fast, what)
    // Standard alphabet and full padding: exactly the text Buffer#toString('base64') gives back.
    const standard = text.length % 4 === 0 && !text.includes('-') && !text.includes('_')
    return standard ? { bytes: fast, base64: text } : { bytes: fast }
  }
  // Whitespace, or something wrong: the careful path, with its regex over the whole text.
  const clean = BASE64.test(text)
  const compact = clean ? text : text.replace(/\s+/g, '')
  const padded = compact.endsWith('=')
  if (
    compact.length === 0 ||
    !(clean || BASE64.test(compact)) ||
    (padded ? compact.length % 4 !== 0 : compact.length % 4 === 1)
  ) {
    throw badResponse(provider, `sent ${what} that is not valid base64`, {
      status: 200,
      reason: `${compact.length} characters`,
    })
  }
  const bytes = new Uint8Array(Buffer.from(compact, 'base64'))
  checkImageBytes(provider, bytes, what)
  return { bytes }
}

/** Throws `bad_response` (status 200: only successful answers carry images) unless the bytes are a whole PNG, JPEG or WebP file. */
export function checkImageBytes(provider: ProviderName, bytes: Uint8Array, what: string): void {
  const problem = imageProblem(bytes)
  if (problem !== undefined) {
    throw badResponse(provider, `sent ${what} that is ${problem}`, {
      status: 200,
      reason: `${bytes.length} bytes`,
    })
  }
}

/**
 * Fetches an image the provider answered by URL. The generation already happened (and was billed),
 * so a failure here is a bad answer, never "not sent"; the API key is not sent to the URL's host.
 */
export async function downloadImage(
  provider: ProviderName,
  url: string,
  what: string,
  context: { fetch: Fetch; signal: AbortSignal; declaredMediaType: string | undefined },
): Promise<ProviderImage> {
  // `data:<type>[;params];base64,<payload>`: the header ends at the first comma, and only the
  // header goes through a regex, not the megabytes after it.
  const comma = url.indexOf(',')
  const dataUrl =
    comma === -1 ? null : /^data:([^;,]*)(?:;[^,]*)?;base64$/s.exec(url.slice(0, comma))
  if (dataUrl) {
    const image: ProviderImage = readImageBase64(provider, url.slice(comma + 1), what)
    if (dataUrl[1]) {
      image.declaredMediaType = dataUrl[1]
    }
    return image
  }
  if (!/^https?:\/\//i.test(url)) {
    throw badResponse(provider, `sent ${what} as an unsupported URL`, { snippet: url })
  }

  const failed = (problem: string, cause?: unknown) =>
    context.signal.aborted
      ? new UpstreamFailure('timeout', provider, `Downloading ${what} outlasted the deadline`, {
          cause,
        })
      : badResponse(provider, `sent ${what} as a URL that could not be downloaded (${problem})`, {
          cause,
        })

  let response: FetchResponse
  try {
    response = await context.fetch(url, { method: 'GET', signal: context.signal })
  } catch (error) {
    throw failed('connection failed', error)
  }
  if (!response.ok) {
    // Read to the end, so that the connection goes back to the pool.
    await response.arrayBuffer().catch(() => undefined)
    throw failed(`HTTP ${response.status}`)
  }
  let bytes: Uint8Array
  try {
    bytes = new Uint8Array(await response.arrayBuffer())
  } catch (error) {
    throw failed('connection failed while reading', error)
  }
  checkImageBytes(provider, bytes, what)
  const image: ProviderImage = { bytes }
  const contentType = response.headers.get('content-type')?.split(';')[0]?.trim()
  const declared = contentType?.startsWith('image/') ? contentType : context.declaredMediaType
  if (declared) {
    image.declaredMediaType = declared
  }
  return image
}

function imageProblem(bytes: Uint8Array): string | undefined {
  if (startsWith(bytes, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) {
    return pngComplete(bytes) ? undefined : 'a truncated PNG'
  }
  if (startsWith(bytes, [0xff, 0xd8, 0xff])) {
    return jpegComplete(bytes) ? undefined : 'a truncated JPEG'
  }
  if (startsWith(bytes, [0x52, 0x49, 0x46, 0x46]) && ascii(bytes, 8, 4) === 'WEBP') {
    return bytes.length >= 8 + readUint32(bytes, 4, true) ? undefined : 'a truncated WebP'
  }
  return 'not a PNG, JPEG or WebP image'
}

/** Walks the chunk list to IEND; a file cut anywhere runs off the end first. */
function pngComplete(bytes: Uint8Array): boolean {
  let offset = 8
  while (offset + 12 <= bytes.length) {
    const length = readUint32(bytes, offset, false)
    const type = ascii(bytes, offset + 4, 4)
    offset += 12 + length
    if (type === 'IEND') {
      return offset <= bytes.length
    }
  }
  return false
}

function jpegComplete(bytes: Uint8Array): boolean {
  let end = bytes.length
  // Some encoders pad after the end-of-image marker.
  while (end > 2 && bytes[end - 1] === 0x00) {
    end--
  }
  return bytes[end - 2] === 0xff && bytes[end - 1] === 0xd9
}

function startsWith(bytes: Uint8Array, prefix: number[]): boolean {
  return bytes.length >= prefix.length && prefix.every((byte, index) => bytes[index] === byte)
}

function ascii(bytes: Uint8Array, offset: number, length: number): string {
  return String.fromCharCode(...bytes.subarray(offset, offset + length))
}

function readUint32(bytes: Uint8Array, offset: number, littleEndian: boolean): number {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(
    offset,
    littleEndian,
  )
}
