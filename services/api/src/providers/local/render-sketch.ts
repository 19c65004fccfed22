import sharp from 'sharp'
import { createSketchRandom, randomColor, type SketchRandom } from './fingerprint.ts'
import { layoutSketch, type SketchLayout, type TextLine } from './layout.ts'
import {
  blendDisc,
  blendRect,
  blendTriangle,
  CHANNELS,
  createRaster,
  drawText,
  fillDiagonalGradient,
  fillRect,
  opacity,
  type Raster,
  type Rgb,
} from './raster.ts'

export type SketchFormat = 'png' | 'jpeg' | 'webp'

export type RenderSketchOptions = {
  prompt: string
  seed: number
  width: number
  height: number
  /** Index of the image within one request; each variant looks different. */
  variant: number
  format?: SketchFormat
  /** JPEG / WebP quality 1..100 (default 90); PNG is lossless and ignores it. */
  quality?: number
  /** An existing image to derive from (edits, refinements): resized, tinted, posterised. */
  input?: Uint8Array
}

export const MIN_SIDE = 64
export const MAX_SIDE = 4096

/** Prompt text is pure white; nothing else in the picture reaches it (see `randomColor` bands). */
export const PROMPT_TEXT_COLOR: Rgb = [255, 255, 255]
export const LABEL_TEXT_COLOR: Rgb = [255, 196, 0]
const DETAIL_TEXT_COLOR: Rgb = [170, 170, 170]
const PANEL_COLOR: Rgb = [10, 10, 14]
const STRIP_COLOR: Rgb = [16, 16, 16]

export const MEDIA_TYPES: Record<SketchFormat, string> = {
  png: 'image/png',
  jpeg: 'image/jpeg',
  webp: 'image/webp',
}

function assertSide(name: string, value: number): void {
  if (!Number.isInteger(value) || value < MIN_SIDE || value > MAX_SIDE) {
    throw new RangeError(`${name} must be an integer in ${MIN_SIDE}..${MAX_SIDE}, got ${value}`)
  }
}

/** Background: a diagonal gradient and a few translucent shapes, all chosen by the digest. */
function paintAbstract(raster: Raster, random: SketchRandom): void {
  fillDiagonalGradient(raster, randomColor(random, [0.3, 0.55]), randomColor(random, [0.2, 0.5]))
  const base = Math.min(raster.width, raster.height)
  const shapes = random.int(5, 8)
  for (let index = 0; index < shapes; index++) {
    const color = randomColor(random, [0.35, 0.75])
    const alpha = opacity(0.35 + random.next() * 0.4)
    const x = random.next() * raster.width
    const y = random.next() * raster.height
    const size = base * (0.12 + random.next() * 0.38)
    const kind = random.int(0, 3)
    if (kind === 0) {
      blendDisc(raster, { x, y }, size, color, alpha)
    } else if (kind === 1) {
      blendDisc(raster, { x, y }, size, color, alpha, size * (0.55 + random.next() * 0.3))
    } else if (kind === 2) {
      const aspect = 0.3 + random.next() * 1.4
      const rect = { x: x - size, y: y - size * aspect, width: 2 * size, height: 2 * size * aspect }
      blendRect(raster, rect, color, alpha)
    } else {
      const apexX = x + (random.next() - 0.5) * size
      const rect = { apexX, top: y - size, left: x - size, right: x + size, bottom: y + size }
      blendTriangle(raster, rect, color, alpha)
    }
  }
}

/** Input mode: the input, cover-resized, posterised and tinted towards the digest's colour. */
async function paintDerived(raster: Raster, random: SketchRandom, input: Uint8Array) {
  const tint = randomColor(random, [0.35, 0.6])
  const pixels = await sharp(input)
    .rotate()
    .flatten({ background: { r: tint[0], g: tint[1], b: tint[2] } })
    .resize(raster.width, raster.height, { fit: 'cover', kernel: 'lanczos3' })
    .toColourspace('srgb')
    .raw()
    .toBuffer({ resolveWithObject: true })
  if (pixels.info.channels !== CHANNELS) {
    throw new Error(`expected ${CHANNELS} channels from the input, got ${pixels.info.channels}`)
  }
  const levels = random.int(4, 7)
  const step = 255 / (levels - 1)
  const table = new Uint8Array(256)
  for (let value = 0; value < 256; value++) {
    table[value] = Math.round(Math.round(value / step) * step)
  }
  const data = raster.data
  const source = pixels.data
  for (let i = 0; i < data.length; i++) {
    data[i] = table[source[i] ?? 0] ?? 0
  }
  blendRect(raster, { x: 0, y: 0, width: raster.width, height: raster.height }, tint, opacity(0.2))
}

function drawLine(raster: Raster, line: TextLine, color: Rgb): void {
  drawText(raster, line.text, line, line.scale, color)
}

function stampText(raster: Raster, layout: SketchLayout): void {
  if (layout.promptPanel !== null) {
    blendRect(raster, layout.promptPanel, PANEL_COLOR, opacity(0.75))
  }
  for (const line of layout.promptLines) {
    drawLine(raster, line, PROMPT_TEXT_COLOR)
  }
  fillRect(raster, layout.labelStrip, STRIP_COLOR)
  drawLine(raster, layout.labelLine, LABEL_TEXT_COLOR)
  if (layout.detailLine !== null) {
    drawLine(raster, layout.detailLine, DETAIL_TEXT_COLOR)
  }
}

async function encode(raster: Raster, format: SketchFormat, quality: number): Promise<Buffer> {
  const image = sharp(raster.data, {
    raw: { width: raster.width, height: raster.height, channels: CHANNELS },
  })
  if (format === 'jpeg') {
    return image.jpeg({ quality, chromaSubsampling: '4:4:4' }).toBuffer()
  }
  if (format === 'webp') {
    return image.webp({ quality, effort: 2 }).toBuffer()
  }
  // Measured at 1024x1024: no row filters + zlib 6 gives ~18 ms and ~55 KB. Each gradient row
  // is the row above shifted by one pixel, which deflate matches well unfiltered; adaptive
  // filters cost ~30 ms more for a file no smaller.
  return image.png({ compressionLevel: 6, adaptiveFiltering: false }).toBuffer()
}

/** Where `renderSketch` puts the prompt and the label for these options. */
export function sketchLayoutFor(options: RenderSketchOptions): SketchLayout {
  const { prompt, seed, width, height, variant } = options
  return layoutSketch({
    width,
    height,
    prompt,
    details: `seed ${seed} · variant ${variant} · ${width}x${height}`,
    mode: options.input === undefined ? 'sketch' : 'derived',
  })
}

/**
 * Renders the local provider's placeholder picture: deterministic (same options, same bytes),
 * different per prompt, seed and variant, showing the prompt and a label that says it is a
 * placeholder. With `input`, the picture is derived from that image instead.
 */
export async function renderSketch(options: RenderSketchOptions): Promise<Uint8Array> {
  const { prompt, seed, width, height, variant, input } = options
  assertSide('width', width)
  assertSide('height', height)
  const format = options.format ?? 'png'
  const quality = Math.min(100, Math.max(1, Math.round(options.quality ?? 90)))
  const random = createSketchRandom(prompt, seed, variant)
  const raster = createRaster(width, height)
  if (input === undefined) {
    paintAbstract(raster, random)
  } else {
    await paintDerived(raster, random, input)
  }
  stampText(raster, sketchLayoutFor(options))
  const bytes = await encode(raster, format, quality)
  return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength)
}
