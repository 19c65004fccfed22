/** Strict base64 checks that cost one native pass over the text: no regex, no copies. */

const EQUALS = 0x3d

/**
 * Decodes base64 or base64url that has nothing but alphabet characters and at most two `=` at
 * the end, in one native pass and without a regex; undefined for anything else (whitespace
 * included). Node skips characters outside the alphabet and stops at a misplaced `=`, so every
 * character was a data character exactly when the decoded length is the one the text's length
 * promises.
 */
export function decodeStrictBase64(text: string): Uint8Array | undefined {
  const data = text.length - paddingOf(text)
  if (data === 0 || data % 4 === 1 || (data !== text.length && text.length % 4 !== 0)) {
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

/** Where `isStrictBase64` decodes to; kept between calls up to this size. */
const SCRATCH_KEPT_BYTES = 4 * 1024 * 1024
let scratch = Buffer.alloc(0)

/**
 * `decodeStrictBase64(text) !== undefined`, without keeping the bytes: they are decoded into a
 * reused scratch buffer instead of a new one.
 */
export function isStrictBase64(text: string): boolean {
  const data = text.length - paddingOf(text)
  if (data === 0 || data % 4 === 1 || (data !== text.length && text.length % 4 !== 0)) {
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

function paddingOf(text: string): number {
  const length = text.length
  if (length === 0 || text.charCodeAt(length - 1) !== EQUALS) {
    return 0
  }
  return length > 1 && text.charCodeAt(length - 2) === EQUALS ? 2 : 1
}

/** Bytes in `data` base64 characters (6 bits each, whole bytes only). */
function decodedLength(data: number): number {
  return Math.floor((data * 3) / 4)
}
