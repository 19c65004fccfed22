/** Strict base64 checks that cost one native pass over the text: no regex, no extra copies. */

const EQUALS = 0x3d
const DASH = 0x2d
const UNDERSCORE = 0x5f

/**
 * Decodes base64 or base64url that has nothing but alphabet characters and at most two `=` at
 * the end, in one native pass and without a regex; undefined for anything else (whitespace
 * included). Node skips characters outside the alphabet and stops at a misplaced `=`, so every
 * character was a data character exactly when the decoded length is the one the text's length
 * promises.
 */
export function decodeStrictBase64(text: string): Uint8Array | undefined {
  const data = text.length - paddingOf(text)
  if (!plausible(data, text.length)) {
    return undefined
  }
  const decoded = Buffer.from(text, 'base64')
  if (decoded.length !== decodedLength(data)) {
    return undefined
  }
  // Large results own their memory; small ones sit in Node's shared pool and are copied out.
  return decoded.buffer.byteLength === decoded.length
    ? new Uint8Array(decoded.buffer, 0, decoded.length)
    : new Uint8Array(decoded)
}

/** Characters per piece when decoding from bytes: a multiple of 4, and a young-generation string. */
const PIECE_CHARACTERS = 32 * 1024

/**
 * `decodeStrictBase64` for base64 text held as ASCII bytes (e.g. a slice of an HTTP body), by
 * the same rules and to the same bytes. The text is turned into strings 32 KiB at a time, each
 * decoded straight into the result: no megabyte string is ever made, which matters because
 * V8 counts a large external string towards its next full garbage collection, and an image
 * gateway would otherwise pay for one every few requests.
 */
export function decodeStrictBase64Bytes(ascii: Uint8Array): Uint8Array | undefined {
  const text = asBuffer(ascii)
  const length = text.length
  const data = length - paddingOfBytes(text)
  if (!plausible(data, length)) {
    return undefined
  }
  const decoded = Buffer.allocUnsafeSlow(decodedLength(data))
  let written = 0
  for (let start = 0; start < length; start += PIECE_CHARACTERS) {
    const end = Math.min(length, start + PIECE_CHARACTERS)
    // Every piece but the last is whole quanta without padding: 3 bytes per 4 characters.
    const expected = end < length ? ((end - start) / 4) * 3 : decoded.length - written
    if (decoded.write(text.toString('latin1', start, end), written, 'base64') !== expected) {
      return undefined
    }
    written += expected
  }
  return new Uint8Array(decoded.buffer, 0, decoded.length)
}

/** Whether strict base64 text (as ASCII bytes) is in the standard alphabet and fully padded. */
export function isStandardBase64Bytes(ascii: Uint8Array): boolean {
  const text = asBuffer(ascii)
  return text.length % 4 === 0 && text.indexOf(DASH) === -1 && text.indexOf(UNDERSCORE) === -1
}

/** Where `isStrictBase64` decodes to; kept between calls up to this size. */
const SCRATCH_KEPT_BYTES = 4 * 1024 * 1024
let scratch = Buffer.alloc(0)

/**
 * `decodeStrictBase64(text) !== undefined`, without keeping the bytes: they are decoded into a
 * reused scratch buffer instead of a new one.
 */
export function isStrictBase64(text: string): boolean {
  const data = text.length - paddingOf(text)
  if (!plausible(data, text.length)) {
    return false
  }
  const expected = decodedLength(data)
  let target = scratch
  if (target.length < expected) {
    target = Buffer.allocUnsafeSlow(expected)
    if (expected <= SCRATCH_KEPT_BYTES) {
      scratch = target
    }
  }
  return target.write(text, 0, expected, 'base64') === expected
}

/** Lengths a base64 encoder can produce: data characters, then padding only to a whole quantum. */
function plausible(data: number, length: number): boolean {
  return data > 0 && data % 4 !== 1 && (data === length || length % 4 === 0)
}

function paddingOf(text: string): number {
  const length = text.length
  if (length === 0 || text.charCodeAt(length - 1) !== EQUALS) {
    return 0
  }
  return length > 1 && text.charCodeAt(length - 2) === EQUALS ? 2 : 1
}

function paddingOfBytes(text: Buffer): number {
  const length = text.length
  if (length === 0 || text[length - 1] !== EQUALS) {
    return 0
  }
  return length > 1 && text[length - 2] === EQUALS ? 2 : 1
}

/** Bytes in `data` base64 characters (6 bits each, whole bytes only). */
function decodedLength(data: number): number {
  return Math.floor((data * 3) / 4)
}

function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes)
    ? bytes
    : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
}
