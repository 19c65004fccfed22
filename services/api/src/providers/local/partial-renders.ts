import sharp from 'sharp'
import type { SketchFormat } from './render-sketch.ts'

/**
 * The partial images of a streamed local render: the finished picture seen through ever finer
 * blocks (1/32, 1/16, 1/8 of its size for three partials, the last always 1/8), each scaled back
 * to full size and encoded in the requested format, as a model refining one image would show it.
 */
export async function* partialRenders(
  finished: Uint8Array,
  options: { width: number; height: number; format: SketchFormat; count: number },
): AsyncGenerator<Uint8Array> {
  const { width, height, format, count } = options
  for (let index = 0; index < count; index++) {
    const coarseness = 2 ** (3 + count - 1 - index)
    const coarse = await sharp(finished)
      .resize(
        Math.max(1, Math.round(width / coarseness)),
        Math.max(1, Math.round(height / coarseness)),
        { fit: 'fill' },
      )
      .toBuffer()
    const partial = await sharp(coarse)
      .resize(width, height, { fit: 'fill', kernel: 'nearest' })
      .toFormat(format)
      .toBuffer()
    yield new Uint8Array(partial.buffer, partial.byteOffset, partial.byteLength)
  }
}
