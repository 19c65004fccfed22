import { GLYPH_HEIGHT, GLYPH_WIDTH } from './font.ts'
import type { Rect } from './raster.ts'
import { clipLines, normalizePrompt, wrapText } from './text.ts'

/**
 * Where the prompt and the placeholder label go, in pixels. Pure, so tests can find the text
 * in a rendered image without guessing.
 */

export type TextLine = { x: number; y: number; scale: number; text: number[] }

export type SketchLayout = {
  /** The darkened panel behind the prompt; null when the prompt is empty. */
  promptPanel: Rect | null
  promptLines: TextLine[]
  /** The solid strip carrying the placeholder label, along the bottom edge. */
  labelStrip: Rect
  /** The label proper ("imagegate local-sketch · placeholder render" or a shorter form). */
  labelLine: TextLine
  /** Seed, variant and size, when there is room. */
  detailLine: TextLine | null
}

export const LABELS = [
  'imagegate local-sketch · placeholder render',
  'local-sketch · placeholder render',
  'local-sketch placeholder',
  'placeholder',
  'sketch',
] as const

/** Horizontal distance between glyph origins, and the text width of `length` characters. */
const advance = (scale: number): number => (GLYPH_WIDTH + 1) * scale
const textWidth = (length: number, scale: number): number =>
  length === 0 ? 0 : length * advance(scale) - scale
const lineHeight = (scale: number): number => (GLYPH_HEIGHT + 2) * scale

const codePoints = (text: string): number[] => Array.from(text, (char) => char.codePointAt(0) ?? 0)

/** The largest scale ≤ `target` at which `text` fits in `room` pixels, or 0. */
function fittingScale(length: number, room: number, target: number): number {
  for (let scale = target; scale >= 1; scale--) {
    if (textWidth(length, scale) <= room) {
      return scale
    }
  }
  return 0
}

function layoutLabel(
  width: number,
  height: number,
  margin: number,
  details: string,
): Pick<SketchLayout, 'labelStrip' | 'labelLine' | 'detailLine'> {
  const room = width - 2 * margin
  const target = Math.max(1, Math.round(Math.min(width, height) / 320))
  // The shortest label fits any width from MIN_SIDE up; it is the fallback.
  let label: string = 'sketch'
  let scale = 1
  for (const candidate of LABELS) {
    const fit = fittingScale(candidate.length, room, target)
    if (fit > 0) {
      label = candidate
      scale = fit
      break
    }
  }
  const detailScale = Math.max(1, scale - 1)
  const showDetails = height >= 192 && textWidth(details.length, detailScale) <= room
  const padding = Math.max(1, Math.round(scale * 1.5))
  const stripHeight =
    2 * padding + lineHeight(scale) - scale + (showDetails ? lineHeight(detailScale) : 0)
  const top = height - stripHeight
  const labelLine = {
    x: margin,
    y: top + padding,
    scale,
    text: codePoints(label),
  }
  const detailLine = showDetails
    ? {
        x: margin,
        y: labelLine.y + lineHeight(scale),
        scale: detailScale,
        text: codePoints(details),
      }
    : null
  return { labelStrip: { x: 0, y: top, width, height: stripHeight }, labelLine, detailLine }
}

export type LayoutInput = {
  width: number
  height: number
  prompt: string
  details: string
  /** `sketch` centres a large prompt panel; `derived` keeps it low so the input stays visible. */
  mode: 'sketch' | 'derived'
}

export function layoutSketch(input: LayoutInput): SketchLayout {
  const { width, height, mode } = input
  const base = Math.min(width, height)
  const margin = Math.max(2, Math.round(base * 0.04))
  const label = layoutLabel(width, height, margin, input.details)
  const text = normalizePrompt(input.prompt)
  if (text.length === 0) {
    return { promptPanel: null, promptLines: [], ...label }
  }

  const areaTop = margin
  const areaBottom = label.labelStrip.y - margin
  const maxPanelHeight = Math.max(0, (areaBottom - areaTop) * (mode === 'sketch' ? 0.8 : 0.4))
  const maxPanelWidth = width - 2 * margin
  const target = Math.max(1, Math.round(base / 128))
  const minScale = Math.max(1, Math.floor(base / 512))

  let chosen: { scale: number; lines: number[][]; padding: number } | undefined
  for (let scale = target; scale >= minScale && chosen === undefined; scale--) {
    const padding = 2 * scale
    const columns = Math.floor((maxPanelWidth - 2 * padding + scale) / advance(scale))
    const rows = Math.floor((maxPanelHeight - 2 * padding + 2 * scale) / lineHeight(scale))
    const lines = wrapText(text, columns)
    if (columns >= 1 && rows >= 1 && (lines.length <= rows || scale === minScale)) {
      chosen = { scale, lines: clipLines(lines, Math.max(1, rows), columns), padding }
    }
  }
  if (chosen === undefined) {
    // Too small for even one line at the minimum scale: show what fits at scale 1.
    const columns = Math.max(1, Math.floor((maxPanelWidth + 1) / advance(1)))
    chosen = { scale: 1, lines: clipLines(wrapText(text, columns), 1, columns), padding: 1 }
  }

  const { scale, lines, padding } = chosen
  const longest = Math.max(...lines.map((line) => line.length))
  const panelWidth = Math.min(maxPanelWidth, textWidth(longest, scale) + 2 * padding)
  const panelHeight = lines.length * lineHeight(scale) - 2 * scale + 2 * padding
  const panelX = Math.round((width - panelWidth) / 2)
  const panelY =
    mode === 'sketch'
      ? Math.round(areaTop + (areaBottom - areaTop - panelHeight) / 2)
      : areaBottom - panelHeight
  const promptLines = lines.map((line, index) => ({
    x: panelX + padding,
    y: panelY + padding + index * lineHeight(scale),
    scale,
    text: line,
  }))
  return {
    promptPanel: { x: panelX, y: panelY, width: panelWidth, height: panelHeight },
    promptLines,
    ...label,
  }
}
