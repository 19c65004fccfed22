import { createHash } from 'node:crypto'
import sharp from 'sharp'
import { describe, expect, it } from 'vitest'
import { GLYPH_HEIGHT, GLYPH_WIDTH, glyphFor } from './font.ts'
import type { TextLine } from './layout.ts'
import type { Rgb } from './raster.ts'
import {
  LABEL_TEXT_COLOR,
  PROMPT_TEXT_COLOR,
  type RenderSketchOptions,
  renderSketch,
  sketchLayoutFor,
} from './render-sketch.ts'
import { countPixels, decodeRgb, meanColor, pixelAt, solidPng } from './testing/pixels.ts'

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex')

const base: RenderSketchOptions = {
  prompt: 'A lighthouse at dusk, gulls circling',
  seed: 7,
  width: 320,
  height: 240,
  variant: 0,
}

const isColor = (color: Rgb) => (r: number, g: number, b: number) =>
  r === color[0] && g === color[1] && b === color[2]

/** Inked font pixels in a line, times the block each becomes. */
function inkedPixels(line: TextLine): number {
  let bits = 0
  for (const codePoint of line.text) {
    for (const row of glyphFor(codePoint)) {
      for (let mask = row; mask > 0; mask >>= 1) {
        bits += mask & 1
      }
    }
  }
  return bits * line.scale * line.scale
}

describe('renderSketch: determinism', () => {
  it('renders byte-identical output for identical options', async () => {
    const first = await renderSketch(base)
    const second = await renderSketch({ ...base })
    expect(sha256(second)).toBe(sha256(first))
  })

  it.each([
    ['prompt', { prompt: 'A lighthouse at dawn, gulls circling' }],
    ['seed', { seed: 8 }],
    ['variant', { variant: 1 }],
  ])('renders different pixels when the %s changes', async (_, change) => {
    const before = await decodeRgb(await renderSketch(base))
    const after = await decodeRgb(await renderSketch({ ...base, ...change }))
    // Not just a different file: a visibly different picture (most pixels change).
    let changed = 0
    for (let i = 0; i < before.data.length; i += 3) {
      if (before.data[i] !== after.data[i] || before.data[i + 1] !== after.data[i + 1]) {
        changed++
      }
    }
    expect(changed / (before.width * before.height)).toBeGreaterThan(0.5)
  })

  it('draws pixels that match a pinned digest, so no run, machine or font setup can drift', async () => {
    const { data } = await decodeRgb(await renderSketch(base))
    expect(sha256(data)).toBe('27c3774e617fb9997408ea2e8b1b6963749c0ca179b8194276e9436ba9ac1e40')
  })
})

describe('renderSketch: output', () => {
  it.each([
    [64, 64],
    [4096, 64],
    [64, 4096],
    [333, 517],
    [1024, 1024],
    [1536, 1024],
    [4096, 4096],
  ])('is a real PNG of exactly %ix%i', async (width, height) => {
    const metadata = await sharp(await renderSketch({ ...base, width, height })).metadata()
    expect(metadata).toMatchObject({ format: 'png', width, height, channels: 3 })
  })

  it.each([
    [63, 256],
    [256, 4097],
    [256.5, 256],
    [Number.NaN, 256],
  ])('rejects %sx%s (sides must be integers in 64..4096)', async (width, height) => {
    await expect(renderSketch({ ...base, width, height })).rejects.toThrow(RangeError)
  })

  it.each([
    ['jpeg', 'jpeg'],
    ['webp', 'webp'],
    ['png', 'png'],
  ] as const)('encodes %s on request', async (format, expected) => {
    const metadata = await sharp(await renderSketch({ ...base, format })).metadata()
    expect(metadata).toMatchObject({ format: expected, width: base.width, height: base.height })
  })

  it('lets JPEG quality trade size for fidelity', async () => {
    const low = await renderSketch({ ...base, format: 'jpeg', quality: 20 })
    const high = await renderSketch({ ...base, format: 'jpeg', quality: 95 })
    expect(low.byteLength).toBeLessThan(high.byteLength)
  })
})

describe('renderSketch: text', () => {
  const options = { ...base, prompt: 'Hello, sketch world' }

  it('draws every glyph of the prompt, pixel for pixel, where the layout says', async () => {
    const layout = sketchLayoutFor(options)
    const image = await decodeRgb(await renderSketch(options))
    const first = layout.promptLines[0]
    expect(first).toBeDefined()
    if (first === undefined) {
      return
    }
    // The first glyph ('H'): sample the centre of every font pixel's block.
    const glyph = glyphFor(first.text[0] ?? 0)
    for (let row = 0; row < GLYPH_HEIGHT; row++) {
      for (let column = 0; column < GLYPH_WIDTH; column++) {
        const inked = ((glyph[row] ?? 0) >> (GLYPH_WIDTH - 1 - column)) & 1
        const x = first.x + column * first.scale + (first.scale >> 1)
        const y = first.y + row * first.scale + (first.scale >> 1)
        expect(isColor(PROMPT_TEXT_COLOR)(...pixelAt(image, x, y))).toBe(inked === 1)
      }
    }
    // And the whole prompt: exactly as many text-coloured pixels as the font inks.
    const panel = layout.promptPanel
    expect(panel).not.toBeNull()
    if (panel === null) {
      return
    }
    const expected = layout.promptLines.reduce((sum, line) => sum + inkedPixels(line), 0)
    expect(expected).toBeGreaterThan(0)
    expect(countPixels(image, panel, isColor(PROMPT_TEXT_COLOR))).toBe(expected)
  })

  it('has no text-coloured pixels in that region when the prompt is empty', async () => {
    const panel = sketchLayoutFor(options).promptPanel
    expect(panel).not.toBeNull()
    if (panel === null) {
      return
    }
    const empty = { ...options, prompt: '' }
    expect(sketchLayoutFor(empty).promptPanel).toBeNull()
    const image = await decodeRgb(await renderSketch(empty))
    expect(countPixels(image, panel, isColor(PROMPT_TEXT_COLOR))).toBe(0)
  })

  it('stamps the placeholder label on every picture', async () => {
    for (const prompt of ['', 'anything at all']) {
      const layout = sketchLayoutFor({ ...options, prompt })
      const image = await decodeRgb(await renderSketch({ ...options, prompt }))
      const count = countPixels(image, layout.labelStrip, isColor(LABEL_TEXT_COLOR))
      expect(count).toBe(inkedPixels(layout.labelLine))
    }
  })
})

describe('renderSketch: derived from an input image', () => {
  const size = { width: 256, height: 256 }
  /** Above the prompt panel, which derived mode keeps low. */
  const top = { x: 0, y: 0, width: 256, height: 100 }

  it.each([
    ['red', [230, 20, 20], 0],
    ['green', [20, 200, 30], 1],
    ['blue', [20, 30, 230], 2],
  ] as const)(
    'an all-%s input yields a picture dominated by that colour',
    async (_, color, channel) => {
      const input = await solidPng(64, 48, [...color])
      const image = await decodeRgb(await renderSketch({ ...base, ...size, input }))
      const mean = meanColor(image, top)
      const others = mean.filter((_, index) => index !== channel)
      expect(mean[channel]).toBeGreaterThan(150)
      for (const other of others) {
        expect(mean[channel]).toBeGreaterThan(other + 80)
      }
    },
  )

  it('keeps the input’s layout: left half red, right half blue', async () => {
    const left = await sharp(await solidPng(50, 100, [220, 10, 10]))
      .raw()
      .toBuffer()
    const input = await sharp(left, { raw: { width: 50, height: 100, channels: 3 } })
      .extend({ right: 50, background: { r: 10, g: 10, b: 220 } })
      .png()
      .toBuffer()
    const image = await decodeRgb(await renderSketch({ ...base, ...size, input }))
    const [leftRed, , leftBlue] = meanColor(image, { x: 0, y: 0, width: 100, height: 100 })
    const [rightRed, , rightBlue] = meanColor(image, { x: 156, y: 0, width: 100, height: 100 })
    expect(leftRed).toBeGreaterThan(leftBlue + 80)
    expect(rightBlue).toBeGreaterThan(rightRed + 80)
  })

  it('still shows the prompt and the label, and stays deterministic', async () => {
    const input = await solidPng(64, 64, [128, 128, 128])
    const options = { ...base, ...size, prompt: 'make it pop', input }
    const bytes = await renderSketch(options)
    expect(sha256(await renderSketch(options))).toBe(sha256(bytes))
    const layout = sketchLayoutFor(options)
    const image = await decodeRgb(bytes)
    const expected = layout.promptLines.reduce((sum, line) => sum + inkedPixels(line), 0)
    expect(expected).toBeGreaterThan(0)
    expect(countPixels(image, layout.promptPanel ?? top, isColor(PROMPT_TEXT_COLOR))).toBe(expected)
    expect(countPixels(image, layout.labelStrip, isColor(LABEL_TEXT_COLOR))).toBeGreaterThan(0)
  })

  it('rejects bytes that are not an image', async () => {
    await expect(
      renderSketch({ ...base, input: new TextEncoder().encode('not an image') }),
    ).rejects.toThrow()
  })
})
