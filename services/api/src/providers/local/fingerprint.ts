import { createHash } from 'node:crypto'
import type { Rgb } from './raster.ts'

/**
 * Everything random in a sketch comes from sha256(prompt | seed | variant), stretched by a
 * small integer PRNG (sfc32). Integer maths only: the same inputs give the same picture on any
 * machine and Node version.
 */

export type SketchRandom = {
  /** The digest every choice derives from, hex. */
  readonly digest: string
  /** Uniform in [0, 1). */
  next(): number
  /** Uniform integer in [low, high]. */
  int(low: number, high: number): number
}

export function sketchDigest(prompt: string, seed: number, variant: number): Buffer {
  return createHash('sha256').update(`${prompt}\u0000${seed}\u0000${variant}`, 'utf8').digest()
}

export function createSketchRandom(prompt: string, seed: number, variant: number): SketchRandom {
  const digest = sketchDigest(prompt, seed, variant)
  let a = digest.readUInt32LE(0)
  let b = digest.readUInt32LE(4)
  let c = digest.readUInt32LE(8)
  let d = digest.readUInt32LE(12)
  const nextUint32 = (): number => {
    const t = (((a + b) | 0) + d) | 0
    d = (d + 1) | 0
    a = b ^ (b >>> 9)
    b = (c + (c << 3)) | 0
    c = (c << 21) | (c >>> 11)
    c = (c + t) | 0
    return t >>> 0
  }
  // Discard the first outputs: sfc32 mixes its state over its first few rounds.
  for (let round = 0; round < 12; round++) {
    nextUint32()
  }
  const next = (): number => nextUint32() / 4294967296
  return {
    digest: digest.toString('hex'),
    next,
    int: (low, high) => low + Math.floor(next() * (high - low + 1)),
  }
}

/** HSL (hue in turns, saturation and lightness 0..1) to 8-bit RGB. */
export function hslToRgb(hue: number, saturation: number, lightness: number): Rgb {
  const chroma = (1 - Math.abs(2 * lightness - 1)) * saturation
  const sector = (((hue % 1) + 1) % 1) * 6
  const x = chroma * (1 - Math.abs((sector % 2) - 1))
  const m = lightness - chroma / 2
  const [r, g, b] =
    sector < 1
      ? [chroma, x, 0]
      : sector < 2
        ? [x, chroma, 0]
        : sector < 3
          ? [0, chroma, x]
          : sector < 4
            ? [0, x, chroma]
            : sector < 5
              ? [x, 0, chroma]
              : [chroma, 0, x]
  const to8 = (value: number): number => Math.min(255, Math.max(0, Math.round((value + m) * 255)))
  return [to8(r), to8(g), to8(b)]
}

/** A colour from the PRNG within a lightness band, so text over it stays legible. */
export function randomColor(random: SketchRandom, lightness: [number, number]): Rgb {
  const hue = random.next()
  const saturation = 0.45 + random.next() * 0.45
  const light = lightness[0] + random.next() * (lightness[1] - lightness[0])
  return hslToRgb(hue, saturation, light)
}
