import type { ImageSize } from './types.ts'

export const GEMINI_ASPECT_RATIOS = [
  '1:1',
  '2:3',
  '3:2',
  '3:4',
  '4:3',
  '4:5',
  '5:4',
  '9:16',
  '16:9',
  '21:9',
] as const

export type GeminiAspectRatio = (typeof GEMINI_ASPECT_RATIOS)[number]
export type GeminiImageSize = '1K' | '2K' | '4K'
export type GeminiImageConfig = { aspectRatio: GeminiAspectRatio; imageSize?: GeminiImageSize }

/** Nominal longer side of each tier; the exact pixels depend on the ratio and are Gemini's choice. */
const SIZE_TIERS: { name: GeminiImageSize; longSide: number }[] = [
  { name: '1K', longSide: 1024 },
  { name: '2K', longSide: 2048 },
  { name: '4K', longSide: 4096 },
]

/** Gemini 2.x image models have a single ~1K tier and no `imageSize` setting. */
function acceptsImageSize(model: string): boolean {
  return !model.startsWith('gemini-2')
}

/**
 * Gemini takes an aspect ratio and a size tier, never pixels. Maps a pixel size to the nearest of
 * both (log distance, so 2:1 is as far from 1:1 as 1:2) and says out loud when that is not exact.
 */
export function geminiImageConfig(
  model: string,
  size: ImageSize | undefined,
): { imageConfig: GeminiImageConfig | undefined; warnings: string[] } {
  if (!size) {
    return { imageConfig: undefined, warnings: [] }
  }
  const { width, height } = size
  const label = `size ${width}x${height}`
  const warnings: string[] = []

  const aspectRatio = nearest(GEMINI_ASPECT_RATIOS, (ratio) => {
    const [w, h] = ratio.split(':').map(Number) as [number, number]
    return Math.abs(Math.log(width / height) - Math.log(w / h))
  })
  const [ratioWidth, ratioHeight] = aspectRatio.split(':').map(Number) as [number, number]
  if (width * ratioHeight !== height * ratioWidth) {
    warnings.push(`${label}: aspect ratio sent as ${aspectRatio}, the nearest Gemini supports`)
  }

  const longSide = Math.max(width, height)
  const tier = nearest(SIZE_TIERS, (candidate) => Math.abs(Math.log(longSide / candidate.longSide)))
  if (!acceptsImageSize(model)) {
    if (longSide !== 1024) {
      warnings.push(`${label}: ${model} renders at about 1K only; imageSize not sent`)
    }
    return { imageConfig: { aspectRatio }, warnings }
  }
  if (longSide !== tier.longSide) {
    warnings.push(
      `${label}: Gemini renders by size tier, not pixels; sent imageSize ${tier.name} (about ${tier.longSide} px on the longer side)`,
    )
  }
  return { imageConfig: { aspectRatio, imageSize: tier.name }, warnings }
}

function nearest<T>(candidates: readonly T[], distance: (candidate: T) => number): T {
  let best = candidates[0] as T
  for (const candidate of candidates) {
    if (distance(candidate) < distance(best)) {
      best = candidate
    }
  }
  return best
}
