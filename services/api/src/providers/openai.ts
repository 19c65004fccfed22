import { z } from 'zod'
import { type Clock, systemClock } from '../ids.ts'
import {
  badResponse,
  type ErrorAnswer,
  type Fetch,
  failureFromStatus,
  type ProcessingTime,
  postJson,
  postMultipart,
  shorten,
  timed,
  withTimeout,
} from './http-errors.ts'
import { downloadImage, readImageBase64 } from './image-payload.ts'
import { Base64Value } from './json-bytes.ts'
import { buildOpenAIEdit, notOpenAIParameters } from './openai-edit-request.ts'
import { openAIModelFamily } from './openai-model-family.ts'
import { postImageEvents } from './openai-stream.ts'
import {
  type GenerateImagesRequest,
  type GenerateImagesResult,
  type ImageProvider,
  type ProviderImage,
  type ReportedImageSettings,
  type TokenUsage,
  UpstreamFailure,
} from './types.ts'

// The model families, for callers that know this module.
export { type OpenAIModelFamily, openAIModelFamily } from './openai-model-family.ts'

export type OpenAIProviderOptions = {
  /** Up to and including the version, e.g. `https://api.openai.com/v1`. */
  baseUrl: string
  apiKey: string
  fetch: Fetch
  /** Per-attempt limit, on top of the request's own deadline. */
  timeoutMs?: number
  clock?: Clock
}

/**
 * A field of the answer's metadata that is checked but never fatal: a proxy that sends a value
 * outside OpenAI's (an `"auto"` quality, a count as a string) loses that field, not the images
 * the caller already paid for.
 */
const optional = <T extends z.ZodType>(schema: T) => schema.nullish().catch(undefined)

const tokenCount = optional(z.number().int().nonnegative())
const tokensDetailsSchema = optional(
  z.object({ image_tokens: tokenCount, text_tokens: tokenCount }),
)

const imagesResponseSchema = z.object({
  data: z.array(
    z.object({
      // Long base64 stays as the bytes it came as (postJson's `base64: 'bytes'`).
      b64_json: z.union([z.string(), z.instanceof(Base64Value)]).nullish(),
      url: z.string().nullish(),
      revised_prompt: z.string().nullish(),
    }),
  ),
  size: optional(z.string().regex(/^[1-9]\d{0,4}x[1-9]\d{0,4}$/)),
  quality: optional(z.enum(['low', 'medium', 'high'])),
  background: optional(z.enum(['transparent', 'opaque'])),
  output_format: optional(z.enum(['png', 'jpeg', 'webp'])),
  usage: optional(
    z.object({
      input_tokens: tokenCount,
      input_tokens_details: tokensDetailsSchema,
      output_tokens: tokenCount,
      output_tokens_details: tokensDetailsSchema,
      total_tokens: tokenCount,
    }),
  ),
})

type ImagesResponse = z.infer<typeof imagesResponseSchema>

const errorEnvelopeSchema = z.object({
  error: z.object({
    code: z.union([z.string(), z.number()]).nullish(),
    type: z.string().nullish(),
    message: z.string().nullish(),
    moderation_details: z.object({ moderation_stage: z.string().nullish() }).nullish(),
  }),
})

const CONTENT_POLICY_CODES = new Set(['moderation_blocked', 'content_policy_violation'])
const QUOTA_CODES = new Set(['insufficient_quota', 'billing_hard_limit_reached'])

export function createOpenAIProvider(options: OpenAIProviderOptions): ImageProvider {
  const baseUrl = options.baseUrl.replace(/\/+$/, '')
  const clock = options.clock ?? systemClock

  return {
    name: 'openai',
    async generate(request: GenerateImagesRequest): Promise<GenerateImagesResult> {
      const signal = withTimeout(request.signal, options.timeoutMs)
      const processing: ProcessingTime = { ms: 0 }
      const post = {
        provider: 'openai' as const,
        fetch: options.fetch,
        headers: { authorization: `Bearer ${options.apiKey}` },
        signal,
        clock,
        classifyError: classifyOpenAIError,
        processing,
        base64: 'bytes' as const,
      }
      const { onPartialImage, partialImages } = request
      const streamed =
        onPartialImage && partialImages ? { onPartialImage, partialImages } : undefined
      let json: unknown
      let warnings: string[]
      let sentText: string | undefined
      if (request.inputs !== undefined && request.inputs.length > 0) {
        const edit = await buildOpenAIEdit({ ...request, inputs: request.inputs })
        warnings = edit.warnings
        sentText = edit.sentText
        const url = `${baseUrl}/images/edits`
        if (streamed) {
          edit.form.append('stream', 'true')
          edit.form.append('partial_images', String(streamed.partialImages))
          const init = { method: 'POST', headers: post.headers, body: edit.form, signal }
          json = await postImageEvents({ ...post, url }, init, streamed.onPartialImage)
        } else {
          json = await postMultipart({ ...post, url, form: edit.form })
        }
      } else {
        const built = buildRequestBody(request)
        warnings = built.warnings
        const url = `${baseUrl}/images/generations`
        if (streamed) {
          const body = { ...built.body, stream: true, partial_images: streamed.partialImages }
          const init = {
            method: 'POST',
            headers: { 'content-type': 'application/json', ...post.headers },
            body: JSON.stringify(body),
            signal,
          }
          json = await postImageEvents({ ...post, url }, init, streamed.onPartialImage)
        } else {
          json = await postJson({ ...post, url, body: built.body })
        }
      }

      const parsed = timed(processing, () => imagesResponseSchema.safeParse(json))
      if (!parsed.success && errorEnvelopeSchema.safeParse(json).success) {
        // Some proxies wrap an upstream error (moderation, quota) in a 200.
        throw classifyOpenAIError({
          status: 200,
          headers: new Headers(),
          body: json,
          retryAfterMs: undefined,
        })
      }
      if (!parsed.success) {
        throw badResponse('openai', 'answered 200 without an Images response', {
          status: 200,
          cause: parsed.error,
        })
      }
      const answer = parsed.data
      if (answer.data.length === 0) {
        throw badResponse('openai', 'answered 200 with no images', { status: 200 })
      }
      const declaredMediaType = answer.output_format ? `image/${answer.output_format}` : undefined
      const images = await Promise.all(
        answer.data.map((item, index) =>
          readImage(item, `image ${index + 1} of ${answer.data.length}`, {
            fetch: options.fetch,
            signal,
            declaredMediaType,
            processing,
          }),
        ),
      )

      const result: GenerateImagesResult = { images, warnings, processingMs: processing.ms }
      if (sentText !== undefined) {
        result.sentText = sentText
      }
      const usage = tokenUsage(answer.usage)
      if (usage) {
        result.usage = usage
      }
      const reported = reportedSettings(answer)
      if (reported) {
        result.reported = reported
      }
      return result
    },
  }
}

/** OpenAI's usage as counts, each only when it was sent. */
function tokenUsage(usage: ImagesResponse['usage']): TokenUsage | undefined {
  if (!usage) {
    return undefined
  }
  const counts: TokenUsage = {
    inputTokens: usage.input_tokens ?? undefined,
    outputTokens: usage.output_tokens ?? undefined,
    totalTokens: usage.total_tokens ?? undefined,
    inputTextTokens: usage.input_tokens_details?.text_tokens ?? undefined,
    inputImageTokens: usage.input_tokens_details?.image_tokens ?? undefined,
    outputTextTokens: usage.output_tokens_details?.text_tokens ?? undefined,
    outputImageTokens: usage.output_tokens_details?.image_tokens ?? undefined,
  }
  const known = Object.entries(counts).filter(([, value]) => value !== undefined)
  return known.length > 0 ? (Object.fromEntries(known) as TokenUsage) : undefined
}

function reportedSettings(answer: ImagesResponse): ReportedImageSettings | undefined {
  const settings: ReportedImageSettings = {
    ...(answer.size ? { size: answer.size } : {}),
    ...(answer.quality ? { quality: answer.quality } : {}),
    ...(answer.background ? { background: answer.background } : {}),
    ...(answer.output_format ? { outputFormat: answer.output_format } : {}),
  }
  return Object.keys(settings).length > 0 ? settings : undefined
}

function buildRequestBody(request: GenerateImagesRequest): {
  body: Record<string, unknown>
  warnings: string[]
} {
  const model = request.upstreamModel
  const family = openAIModelFamily(model)
  const warnings: string[] = []
  const body: Record<string, unknown> = { model, prompt: request.prompt, n: request.n }
  if (request.size) {
    body.size = `${request.size.width}x${request.size.height}`
  }
  if (request.quality !== undefined) {
    body.quality = request.quality
  }

  const gptImageOnly = {
    output_format: request.outputFormat,
    output_compression: request.outputCompression,
    background: request.background,
    moderation: request.moderation,
  }
  for (const [parameter, value] of Object.entries(gptImageOnly)) {
    if (value === undefined) {
      continue
    }
    if (family === 'gpt-image') {
      body[parameter] = value
    } else {
      warnings.push(`${parameter} is accepted only by GPT Image models; not sent to ${model}`)
    }
  }
  if (request.style !== undefined) {
    if (family === 'dall-e-3') {
      body.style = request.style
    } else {
      warnings.push(`style is accepted only by dall-e-3; not sent to ${model}`)
    }
  }
  if (request.user !== undefined) {
    body.user = request.user
  }
  if (request.inputFidelity !== undefined) {
    warnings.push('input_fidelity applies only to edits (requests with input images); not sent')
  }
  if (request.mask !== undefined) {
    warnings.push('a mask applies only to edits (requests with input images); not sent')
  }
  warnings.push(...notOpenAIParameters(request))
  // DALL·E's default is a short-lived URL; GPT Image rejects the parameter. Unknown models are left
  // to their default, since a URL answer is downloaded anyway.
  if (family === 'dall-e-3' || family === 'dall-e-2') {
    body.response_format = 'b64_json'
  }
  return { body, warnings }
}

async function readImage(
  item: ImagesResponse['data'][number],
  what: string,
  context: {
    fetch: Fetch
    signal: AbortSignal
    declaredMediaType: string | undefined
    processing: ProcessingTime
  },
): Promise<ProviderImage> {
  let image: ProviderImage
  const b64 = item.b64_json
  if (b64) {
    image = timed(context.processing, () => readImageBase64('openai', b64, what))
    if (context.declaredMediaType) {
      image.declaredMediaType = context.declaredMediaType
    }
  } else if (item.url) {
    image = await downloadImage('openai', item.url, what, context)
  } else {
    throw badResponse('openai', `sent ${what} with neither b64_json nor url`, { status: 200 })
  }
  if (item.revised_prompt) {
    image.revisedPrompt = item.revised_prompt
  }
  return image
}

function classifyOpenAIError(answer: ErrorAnswer): UpstreamFailure {
  const error = errorEnvelopeSchema.safeParse(answer.body).data?.error
  const code = error?.code == null ? undefined : String(error.code)
  const type = error?.type ?? undefined
  const message =
    error?.message ??
    (typeof answer.body === 'string' && answer.body ? shorten(answer.body) : 'no error message')
  const upstreamCode = code ?? type
  const isOneOf = (codes: Set<string>) =>
    (code !== undefined && codes.has(code)) || (type !== undefined && codes.has(type))

  if (isOneOf(CONTENT_POLICY_CODES)) {
    const stage = error?.moderation_details?.moderation_stage === 'output' ? 'output' : 'input'
    return new UpstreamFailure(
      'content_policy',
      'openai',
      `The upstream safety system refused the ${stage === 'input' ? 'prompt' : 'image'}: ${message}`,
      { status: answer.status, stage, reason: message, upstreamCode },
    )
  }
  if (isOneOf(QUOTA_CODES)) {
    return new UpstreamFailure(
      'quota',
      'openai',
      `The operator's upstream quota or billing limit is exhausted: ${message}`,
      { status: answer.status, upstreamCode, retryAfterMs: answer.retryAfterMs },
    )
  }
  return failureFromStatus('openai', answer.status, {
    message,
    upstreamCode,
    retryAfterMs: answer.retryAfterMs,
  })
}
