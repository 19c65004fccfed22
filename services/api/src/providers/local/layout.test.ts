import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { GLYPH_HEIGHT, GLYPH_WIDTH } from './font.ts'
import { LABELS, layoutSketch, type SketchLayout, type TextLine } from './layout.ts'
import type { Rect } from './raster.ts'

const details = 'seed 1 · variant 0 · 1024x1024'
const lineText = (line: TextLine) => String.fromCodePoint(...line.text)

function lineBox(line: TextLine): Rect {
  return {
    x: line.x,
    y: line.y,
    width: line.text.length * (GLYPH_WIDTH + 1) * line.scale - line.scale,
    height: GLYPH_HEIGHT * line.scale,
  }
}

const inside = (inner: Rect, outer: Rect) =>
  inner.x >= outer.x &&
  inner.y >= outer.y &&
  inner.x + inner.width <= outer.x + outer.width &&
  inner.y + inner.height <= outer.y + outer.height

function expectWellFormed(layout: SketchLayout, width: number, height: number) {
  const canvas = { x: 0, y: 0, width, height }
  expect(inside(layout.labelStrip, canvas)).toBe(true)
  expect(layout.labelStrip.y + layout.labelStrip.height).toBe(height)
  for (const line of [layout.labelLine, layout.detailLine ?? layout.labelLine]) {
    expect(inside(lineBox(line), layout.labelStrip)).toBe(true)
  }
  if (layout.promptPanel !== null) {
    expect(inside(layout.promptPanel, canvas)).toBe(true)
    expect(layout.promptPanel.y + layout.promptPanel.height).toBeLessThanOrEqual(
      layout.labelStrip.y,
    )
    for (const line of layout.promptLines) {
      expect(inside(lineBox(line), layout.promptPanel)).toBe(true)
    }
  }
}

describe('layoutSketch', () => {
  it('shows the full placeholder label and the details at 1024x1024', () => {
    const layout = layoutSketch({
      width: 1024,
      height: 1024,
      prompt: 'a cat',
      details,
      mode: 'sketch',
    })
    expect(lineText(layout.labelLine)).toBe('imagegate local-sketch · placeholder render')
    expect(layout.detailLine && lineText(layout.detailLine)).toBe(details)
    expect(layout.promptLines.map(lineText)).toEqual(['a cat'])
    expectWellFormed(layout, 1024, 1024)
  })

  it('shortens the label on tiny pictures instead of dropping it', () => {
    const layout = layoutSketch({ width: 64, height: 64, prompt: 'a cat', details, mode: 'sketch' })
    expect(LABELS).toContain(lineText(layout.labelLine))
    expect(layout.detailLine).toBeNull()
    expectWellFormed(layout, 64, 64)
  })

  it('scales text down as the prompt grows, and clips with an ellipsis past the minimum', () => {
    const scaleFor = (prompt: string) =>
      layoutSketch({ width: 1024, height: 1024, prompt, details, mode: 'sketch' }).promptLines[0]
        ?.scale ?? 0
    const short = scaleFor('a cat')
    const long = scaleFor('a cat '.repeat(60))
    expect(short).toBeGreaterThan(long)
    const huge = layoutSketch({
      width: 1024,
      height: 1024,
      prompt: 'word '.repeat(20_000),
      details,
      mode: 'sketch',
    })
    expect(lineText(huge.promptLines.at(-1) ?? huge.labelLine).endsWith('...')).toBe(true)
    expectWellFormed(huge, 1024, 1024)
  })

  it('keeps the prompt low in derived mode so the input image stays visible', () => {
    const input = { width: 512, height: 512, prompt: 'make it blue', details }
    const sketch = layoutSketch({ ...input, mode: 'sketch' })
    const derived = layoutSketch({ ...input, mode: 'derived' })
    expect(derived.promptPanel?.y ?? 0).toBeGreaterThan(sketch.promptPanel?.y ?? 0)
    expect(derived.promptPanel?.y ?? 0).toBeGreaterThan(256)
  })

  it('has no prompt panel for an empty prompt', () => {
    const layout = layoutSketch({ width: 256, height: 256, prompt: '   ', details, mode: 'sketch' })
    expect(layout.promptPanel).toBeNull()
    expect(layout.promptLines).toEqual([])
  })

  it('keeps everything on the canvas for any size in 64..4096 and any prompt', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 64, max: 4096 }),
        fc.integer({ min: 64, max: 4096 }),
        fc.string({ maxLength: 600 }),
        fc.constantFrom('sketch' as const, 'derived' as const),
        (width, height, prompt, mode) => {
          expectWellFormed(layoutSketch({ width, height, prompt, details, mode }), width, height)
        },
      ),
      { numRuns: 300 },
    )
  })
})
