/**
 * Markup that turns an image into a polyglot a browser or server-side interpreter may execute
 * when the file is ever served or opened as something else (GIFAR-style, PHP in a PNG chunk,
 * HTML after the image data). Tag names must be followed by whitespace, `>` or `/`, which keeps
 * accidental matches in 8 KiB of compressed (random-looking) data near one image in a million;
 * XMP metadata (`<x:xmpmeta`, `<rdf:RDF`) does not match.
 */
const MARKUP = /<(?:script|html|svg|iframe|object|embed|body|img)[\s>/]|<\?php|<!doctype\s+html/i

/** The first piece of markup found in the bytes, read as Latin-1 (one character per byte). */
export function findMarkup(bytes: Uint8Array): string | undefined {
  const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1')
  return MARKUP.exec(text)?.[0]
}
