import { GLYPH_HEIGHT, GLYPH_WIDTH, glyphFor } from './font.ts'

/**
 * A packed 8-bit RGB pixel buffer and the few drawing operations the sketch needs. Every
 * operation clips to the canvas and uses integer arithmetic only, so output is byte-identical
 * everywhere. Solid fills copy one pixel and double it with `copyWithin`; blends are flat loops.
 */

export type Rgb = readonly [number, number, number]

export type Raster = { readonly width: number; readonly height: number; readonly data: Uint8Array }

export type Rect = { x: number; y: number; width: number; height: number }

export const CHANNELS = 3

export function createRaster(width: number, height: number): Raster {
  return { width, height, data: new Uint8Array(width * height * CHANNELS) }
}

function clampInt(value: number, low: number, high: number): number {
  return Math.min(high, Math.max(low, Math.round(value)))
}

function clipRect(raster: Raster, rect: Rect): { x0: number; y0: number; x1: number; y1: number } {
  return {
    x0: clampInt(rect.x, 0, raster.width),
    y0: clampInt(rect.y, 0, raster.height),
    x1: clampInt(rect.x + rect.width, 0, raster.width),
    y1: clampInt(rect.y + rect.height, 0, raster.height),
  }
}

/** Solid fill of [x0, x1) on row y (already clipped). */
function fillSpan(raster: Raster, y: number, x0: number, x1: number, color: Rgb): void {
  if (x1 <= x0) {
    return
  }
  const data = raster.data
  const start = (y * raster.width + x0) * CHANNELS
  const end = (y * raster.width + x1) * CHANNELS
  data[start] = color[0]
  data[start + 1] = color[1]
  data[start + 2] = color[2]
  let filled = CHANNELS
  while (start + filled < end) {
    const chunk = Math.min(filled, end - start - filled)
    data.copyWithin(start + filled, start, start + chunk)
    filled += chunk
  }
}

/** Blends `color` over [x0, x1) on row y with opacity alpha/256 (already clipped). */
function blendSpan(
  raster: Raster,
  y: number,
  x0: number,
  x1: number,
  color: Rgb,
  alpha: number,
): void {
  const data = raster.data
  const keep = 256 - alpha
  const r = color[0] * alpha
  const g = color[1] * alpha
  const b = color[2] * alpha
  const end = (y * raster.width + x1) * CHANNELS
  for (let i = (y * raster.width + x0) * CHANNELS; i < end; i += CHANNELS) {
    data[i] = ((data[i] ?? 0) * keep + r) >> 8
    data[i + 1] = ((data[i + 1] ?? 0) * keep + g) >> 8
    data[i + 2] = ((data[i + 2] ?? 0) * keep + b) >> 8
  }
}

/** Opacity as an integer 0..256, so blends stay in integer arithmetic. */
export function opacity(fraction: number): number {
  return clampInt(fraction * 256, 0, 256)
}

export function fillRect(raster: Raster, rect: Rect, color: Rgb): void {
  const { x0, y0, x1, y1 } = clipRect(raster, rect)
  if (x1 <= x0 || y1 <= y0) {
    return
  }
  fillSpan(raster, y0, x0, x1, color)
  const rowStart = (y0 * raster.width + x0) * CHANNELS
  const rowEnd = (y0 * raster.width + x1) * CHANNELS
  for (let y = y0 + 1; y < y1; y++) {
    raster.data.copyWithin((y * raster.width + x0) * CHANNELS, rowStart, rowEnd)
  }
}

export function blendRect(raster: Raster, rect: Rect, color: Rgb, alpha: number): void {
  const { x0, y0, x1, y1 } = clipRect(raster, rect)
  for (let y = y0; y < y1; y++) {
    blendSpan(raster, y, x0, x1, color, alpha)
  }
}

/** A filled disc, or a ring when `innerRadius` is given. */
export function blendDisc(
  raster: Raster,
  center: { x: number; y: number },
  radius: number,
  color: Rgb,
  alpha: number,
  innerRadius = 0,
): void {
  const y0 = clampInt(center.y - radius, 0, raster.height)
  const y1 = clampInt(center.y + radius, 0, raster.height)
  for (let y = y0; y < y1; y++) {
    const dy = y + 0.5 - center.y
    const outer = radius * radius - dy * dy
    if (outer <= 0) {
      continue
    }
    const half = Math.sqrt(outer)
    const inner = innerRadius * innerRadius - dy * dy
    const hole = inner > 0 ? Math.sqrt(inner) : 0
    const left = clampInt(center.x - half, 0, raster.width)
    const right = clampInt(center.x + half, 0, raster.width)
    if (hole === 0) {
      blendSpan(raster, y, left, right, color, alpha)
      continue
    }
    blendSpan(raster, y, left, clampInt(center.x - hole, left, right), color, alpha)
    blendSpan(raster, y, clampInt(center.x + hole, left, right), right, color, alpha)
  }
}

/** A triangle with a horizontal base: apex at (apexX, top), base from left to right at bottom. */
export function blendTriangle(
  raster: Raster,
  shape: { apexX: number; top: number; left: number; right: number; bottom: number },
  color: Rgb,
  alpha: number,
): void {
  const y0 = clampInt(Math.min(shape.top, shape.bottom), 0, raster.height)
  const y1 = clampInt(Math.max(shape.top, shape.bottom), 0, raster.height)
  const span = shape.bottom - shape.top
  for (let y = y0; y < y1; y++) {
    const t = span === 0 ? 1 : (y + 0.5 - shape.top) / span
    const left = clampInt(shape.apexX + (shape.left - shape.apexX) * t, 0, raster.width)
    const right = clampInt(shape.apexX + (shape.right - shape.apexX) * t, 0, raster.width)
    blendSpan(raster, y, left, right, color, alpha)
  }
}

/**
 * Fills the canvas with a diagonal gradient from `from` (top-left) to `to` (bottom-right).
 * Colour depends only on x + y, so every row is a slice of one precomputed strip.
 */
export function fillDiagonalGradient(raster: Raster, from: Rgb, to: Rgb): void {
  const { width, height, data } = raster
  const steps = width + height - 1
  const strip = new Uint8Array(steps * CHANNELS)
  const last = Math.max(1, steps - 1)
  const lerp = (start: number, end: number, step: number) =>
    start + Math.round(((end - start) * step) / last)
  for (let i = 0; i < steps; i++) {
    strip[i * CHANNELS] = lerp(from[0], to[0], i)
    strip[i * CHANNELS + 1] = lerp(from[1], to[1], i)
    strip[i * CHANNELS + 2] = lerp(from[2], to[2], i)
  }
  for (let y = 0; y < height; y++) {
    data.set(strip.subarray(y * CHANNELS, (y + width) * CHANNELS), y * width * CHANNELS)
  }
}

/** Draws one line of text; each font pixel becomes a `scale`×`scale` block. */
export function drawText(
  raster: Raster,
  text: readonly number[],
  origin: { x: number; y: number },
  scale: number,
  color: Rgb,
): void {
  const advance = (GLYPH_WIDTH + 1) * scale
  text.forEach((codePoint, index) => {
    const glyph = glyphFor(codePoint)
    const left = origin.x + index * advance
    for (let row = 0; row < GLYPH_HEIGHT; row++) {
      const mask = glyph[row] ?? 0
      if (mask === 0) {
        continue
      }
      for (let column = 0; column < GLYPH_WIDTH; column++) {
        if (mask & (1 << (GLYPH_WIDTH - 1 - column))) {
          const x = left + column * scale
          const y = origin.y + row * scale
          fillRect(raster, { x, y, width: scale, height: scale }, color)
        }
      }
    }
  })
}
