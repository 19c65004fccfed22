import { decodeStrictBase64Bytes, isStrictBase64 } from './base64.ts'

/**
 * Reading JSON answers that carry images as megabytes of base64, without paying for it three
 * times (UTF-8 decoding, JSON.parse's scan, the base64 check) on text nobody needs to look at.
 */

/** String values at least this long are candidates for being lifted out before JSON.parse. */
const LARGE_STRING_BYTES = 16 * 1024

const QUOTE = 0x22
const BACKSLASH = 0x5c
const COLON = 0x3a
/** Placeholders are `"\u0000imagegate-lifted-<n>"` in the text JSON.parse sees. */
const PLACEHOLDER_PREFIX = '\u0000imagegate-lifted-'

/**
 * A long base64 string value of a JSON answer, kept as the bytes it arrived as, and already
 * decoded (strictly: the text is exactly what a JSON string of base64 holds). See
 * `parseJsonBytes`' `base64: 'bytes'`.
 */
export class Base64Value {
  constructor(
    /** The text, as ASCII bytes: a view into the answer's body. */
    readonly ascii: Uint8Array,
    readonly decoded: Uint8Array,
  ) {}

  /** The string JSON.parse would have given. */
  toString(): string {
    return Buffer.from(this.ascii.buffer, this.ascii.byteOffset, this.ascii.byteLength).toString(
      'latin1',
    )
  }
}

export type ParseJsonBytesOptions = {
  /**
   * `string` (the default): long base64 values are strings, as JSON.parse gives them. `bytes`:
   * they are `Base64Value`s instead, so that no megabyte string is made (see
   * `decodeStrictBase64Bytes`) for a value that is only decoded and passed on.
   */
  base64?: 'string' | 'bytes'
}

/** The body as text, as fetch's `response.text()` decodes it (UTF-8, a leading BOM dropped). */
export function utf8Text(bytes: Uint8Array): string {
  const buffer = asBuffer(bytes)
  const start = buffer[0] === 0xef && buffer[1] === 0xbb && buffer[2] === 0xbf ? 3 : 0
  return buffer.toString('utf8', start)
}

/**
 * `JSON.parse(utf8Text(bytes))`, same value and same errors, faster on answers with large base64
 * strings: every long string value with no escapes and nothing but base64 in it is cut out of
 * the text (a native search finds its closing quote), JSON.parse reads the small rest, and the
 * string is put back, made straight from its bytes (or, with `base64: 'bytes'`, a `Base64Value`
 * in its place). Anything unusual takes the plain path.
 */
export function parseJsonBytes(bytes: Uint8Array, options: ParseJsonBytesOptions = {}): unknown {
  const buffer = asBuffer(bytes)
  const lifted = findLiftableStrings(buffer, options.base64 ?? 'string')
  if (lifted.length === 0) {
    return JSON.parse(utf8Text(buffer))
  }
  const values = new Map<string, string | Base64Value>()
  const pieces: string[] = []
  let from = buffer[0] === 0xef && buffer[1] === 0xbb && buffer[2] === 0xbf ? 3 : 0
  for (const [index, { open, close, value }] of lifted.entries()) {
    const placeholder = `${PLACEHOLDER_PREFIX}${index}`
    values.set(placeholder, value)
    // Cuts fall on ASCII quotes, so no UTF-8 sequence is split between pieces.
    pieces.push(buffer.toString('utf8', from, open), JSON.stringify(placeholder))
    from = close + 1
  }
  pieces.push(buffer.toString('utf8', from))

  let restored = 0
  let value: unknown
  try {
    value = JSON.parse(pieces.join(''), (_key, item: unknown) => {
      if (typeof item === 'string' && item.startsWith(PLACEHOLDER_PREFIX)) {
        const original = values.get(item)
        if (original !== undefined) {
          restored++
          return original
        }
      }
      return item
    })
  } catch {
    // The whole text, so that the error is JSON.parse's own, about the text as sent.
    return JSON.parse(utf8Text(buffer))
  }
  // Each placeholder once, and no string of the answer's own that looked like one.
  return restored === lifted.length ? value : JSON.parse(utf8Text(buffer))
}

type Lifted = { open: number; close: number; value: string | Base64Value }

/**
 * The long string values (not keys) of a JSON text that hold plain base64: no escapes, so the
 * bytes between the quotes are the string, and only alphabet characters, so they are ASCII and
 * legal in a JSON string. Found by walking from quote to quote: outside a string a quote opens
 * one, inside it a quote after an even number of backslashes closes it.
 */
function findLiftableStrings(buffer: Buffer, as: 'string' | 'bytes'): Lifted[] {
  const lifted: Lifted[] = []
  let position = 0
  // The first backslash at or after the last place looked (-2: not looked yet, -1: none).
  let backslash = -2
  while (position < buffer.length) {
    const open = buffer.indexOf(QUOTE, position)
    if (open === -1) {
      break
    }
    let close = open
    for (;;) {
      close = buffer.indexOf(QUOTE, close + 1)
      if (close === -1) {
        // Unterminated: JSON.parse reports it.
        return []
      }
      let backslashes = 0
      while (buffer[close - 1 - backslashes] === BACKSLASH) {
        backslashes++
      }
      if (backslashes % 2 === 0) {
        break
      }
    }
    position = close + 1
    if (close - open - 1 < LARGE_STRING_BYTES || isKey(buffer, position)) {
      continue
    }
    if (backslash !== -1 && backslash < open) {
      backslash = buffer.indexOf(BACKSLASH, open)
    }
    if (backslash !== -1 && backslash < close) {
      continue
    }
    if (as === 'bytes') {
      const ascii = new Uint8Array(buffer.buffer, buffer.byteOffset + open + 1, close - open - 1)
      const decoded = decodeStrictBase64Bytes(ascii)
      if (decoded !== undefined) {
        lifted.push({ open, close, value: new Base64Value(ascii, decoded) })
      }
      continue
    }
    const text = buffer.toString('latin1', open + 1, close)
    if (isStrictBase64(text)) {
      lifted.push({ open, close, value: text })
    }
  }
  return lifted
}

function isKey(buffer: Buffer, after: number): boolean {
  let index = after
  while (index < buffer.length) {
    const byte = buffer[index]
    if (byte !== 0x20 && byte !== 0x09 && byte !== 0x0a && byte !== 0x0d) {
      return byte === COLON
    }
    index++
  }
  return false
}

function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes)
    ? bytes
    : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
}
