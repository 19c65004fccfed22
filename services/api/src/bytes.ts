/** Pieces read from a stream, joined into one array of exactly `length` bytes. */
export function concatBytes(
  pieces: readonly Uint8Array[],
  length: number,
): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(length)
  let at = 0
  for (const piece of pieces) {
    out.set(piece, at)
    at += piece.byteLength
  }
  return out
}
