import type { z } from '@hono/zod-openapi'
import type { AssetRow } from '../../db/schema/index.ts'
import type { TokenUsage } from '../../providers/types.ts'
import type { ImageGenerationResponseSchema, ImageUsageSchema } from '../../schemas/images.ts'
import type { GenerationOutcome } from '../../services/generation/types.ts'

type AnswerSettings = Pick<
  z.infer<typeof ImageGenerationResponseSchema>,
  'size' | 'quality' | 'background' | 'output_format' | 'usage'
>

const OUTPUT_FORMATS: ReadonlyMap<string, 'png' | 'jpeg' | 'webp'> = new Map([
  ['image/png', 'png'],
  ['image/jpeg', 'jpeg'],
  ['image/webp', 'webp'],
])

/**
 * OpenAI's answer fields about the images: `size` and `output_format` of what is returned, for
 * every provider, as the stored images say (the provider's word only for an image whose size
 * is unknown: a proxy that resized or re-encoded must not be believed over the bytes); `quality`,
 * `background` and `usage` only as the provider reported them, since nothing else knows them.
 */
export function answerSettings(
  outcome: Pick<GenerationOutcome, 'usage' | 'reported'> & {
    images: readonly { asset: Pick<AssetRow, 'width' | 'height' | 'mediaType'> }[]
  },
): AnswerSettings {
  const assets = outcome.images.map((image) => image.asset)
  const reported = outcome.reported ?? {}
  const size = oneOf(assets.map((asset) => sizeOf(asset) ?? reported.size))
  const outputFormat = oneOf(assets.map((asset) => OUTPUT_FORMATS.get(asset.mediaType)))
  const usage = outcome.usage ? answerUsage(outcome.usage) : undefined
  return {
    ...(size ? { size } : {}),
    ...(reported.quality ? { quality: reported.quality } : {}),
    ...(reported.background ? { background: reported.background } : {}),
    ...(outputFormat ? { output_format: outputFormat } : {}),
    ...(usage ? { usage } : {}),
  }
}

function sizeOf(asset: Pick<AssetRow, 'width' | 'height'>) {
  return asset.width && asset.height ? `${asset.width}x${asset.height}` : undefined
}

/** The value every item has; none when they differ or one has none. */
function oneOf<T>(values: readonly (T | undefined)[]): T | undefined {
  const [first] = values
  return values.every((value) => value === first) ? first : undefined
}

/** OpenAI's usage object; a details object only when both of its counts are known. */
function answerUsage(usage: TokenUsage): z.infer<typeof ImageUsageSchema> | undefined {
  const details = (text: number | undefined, image: number | undefined) =>
    text === undefined || image === undefined
      ? undefined
      : { image_tokens: image, text_tokens: text }
  const input = details(usage.inputTextTokens, usage.inputImageTokens)
  const output = details(usage.outputTextTokens, usage.outputImageTokens)
  const answer = {
    ...(usage.inputTokens === undefined ? {} : { input_tokens: usage.inputTokens }),
    ...(input ? { input_tokens_details: input } : {}),
    ...(usage.outputTokens === undefined ? {} : { output_tokens: usage.outputTokens }),
    ...(output ? { output_tokens_details: output } : {}),
    ...(usage.totalTokens === undefined ? {} : { total_tokens: usage.totalTokens }),
  }
  return Object.keys(answer).length > 0 ? answer : undefined
}
