import type { ModelEntry, Parameter, Size } from '../../catalog/model-entry.ts'
import { AppError } from '../../errors/app-error.ts'
import type { GenerateImagesRequest } from '../../providers/types.ts'
import type { ImageGenerationRequest } from '../../schemas/images.ts'

/** What will be asked of the provider, after the catalog's limits were applied. */
export type GenerationPlan = {
  n: number
  size: Size
  quality: string | undefined
  /** Per-image price in US cents for this size and quality. */
  unitCostCents: number
  /** The optional settings passed on to the provider as they are. */
  forwarded: Pick<
    GenerateImagesRequest,
    | 'outputFormat'
    | 'outputCompression'
    | 'background'
    | 'moderation'
    | 'style'
    | 'user'
    | 'seed'
    | 'grounding'
  >
  warnings: string[]
}

function pixels(size: string) {
  const [width = 0, height = 0] = size.split('x').map(Number)
  return { width, height }
}

/** The supported size closest in aspect ratio, then in area. */
export function nearestSize(requested: string, supported: readonly Size[]): Size {
  const want = pixels(requested)
  const ratio = Math.log(want.width / want.height)
  const area = want.width * want.height
  let best = supported[0] as Size
  let bestScore = Number.POSITIVE_INFINITY
  for (const candidate of supported) {
    const got = pixels(candidate)
    const score =
      Math.abs(Math.log(got.width / got.height) - ratio) * 10 +
      Math.abs(Math.log((got.width * got.height) / area))
    if (score < bestScore) {
      best = candidate
      bestScore = score
    }
  }
  return best
}

const parameterOf: Record<keyof GenerationPlan['forwarded'] | 'quality', Parameter> = {
  outputFormat: 'output_format',
  outputCompression: 'output_compression',
  background: 'background',
  moderation: 'moderation',
  style: 'style',
  user: 'user',
  seed: 'seed',
  grounding: 'grounding',
  quality: 'quality',
}

/**
 * Maps a request onto a model: unsupported settings become the nearest supported value or are
 * dropped, and every such change is reported in `warnings` — never silently.
 */
export function planGeneration(
  model: ModelEntry,
  request: Pick<
    ImageGenerationRequest,
    | 'prompt'
    | 'n'
    | 'size'
    | 'quality'
    | 'output_format'
    | 'output_compression'
    | 'background'
    | 'moderation'
    | 'style'
    | 'user'
    | 'seed'
    | 'grounding'
  >,
): GenerationPlan {
  const warnings: string[] = []
  if (request.prompt.length > model.maxPromptChars) {
    throw new AppError(
      'invalid_request',
      `The prompt has ${request.prompt.length} characters; ${model.id} accepts at most ${model.maxPromptChars}`,
      { param: 'prompt' },
    )
  }
  let n = request.n
  if (n > model.maxN) {
    warnings.push(`n=${n} capped to ${model.maxN}, the most ${model.id} returns per request`)
    n = model.maxN
  }

  let size: Size = model.defaultSize
  if (request.size !== 'auto') {
    if ((model.sizes as readonly string[]).includes(request.size)) {
      size = request.size
    } else {
      size = nearestSize(request.size, model.sizes)
      warnings.push(`size=${request.size} is not supported by ${model.id}; used ${size}`)
    }
  }

  const accepts = (parameter: Parameter) => model.parameters.includes(parameter)
  let quality: string | undefined
  if (request.quality !== undefined) {
    if (!accepts('quality')) {
      warnings.push(`quality=${request.quality} is not supported by ${model.id}; ignored`)
    } else if (request.quality === 'auto' || model.qualities.includes(request.quality)) {
      quality = request.quality === 'auto' ? model.defaultQuality : request.quality
    } else {
      quality = model.defaultQuality
      warnings.push(
        `quality=${request.quality} is not supported by ${model.id}; used ${quality ?? 'the default'}`,
      )
    }
  } else {
    quality = model.defaultQuality
  }

  const wanted: GenerationPlan['forwarded'] = {
    outputFormat: request.output_format,
    outputCompression: request.output_compression,
    background: request.background,
    moderation: request.moderation,
    style: request.style,
    user: request.user,
    seed: request.seed,
    grounding: request.grounding,
  }
  const forwarded: GenerationPlan['forwarded'] = {}
  for (const [key, value] of Object.entries(wanted) as [keyof typeof wanted, unknown][]) {
    if (value === undefined) {
      continue
    }
    const parameter = parameterOf[key]
    if (key === 'grounding' && value === true && !accepts('grounding')) {
      throw new AppError('unsupported_parameter', `${model.id} does not support grounding`, {
        param: 'grounding',
      })
    }
    if (accepts(parameter)) {
      ;(forwarded as Record<string, unknown>)[key] = value
    } else if (key !== 'user') {
      warnings.push(`${parameter}=${String(value)} is not supported by ${model.id}; ignored`)
    }
  }

  const prices = model.pricePerImage[size] ?? {}
  const unitCostCents =
    prices[quality ?? 'default'] ?? prices.default ?? Object.values(prices)[0] ?? 0
  return { n, size, quality, unitCostCents, forwarded, warnings }
}
