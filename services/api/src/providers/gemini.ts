import { type Clock, systemClock } from '../ids.ts'
import { buildGeminiTurn } from '../refinement/gemini-refinement.ts'
import { type GeminiCallOutcome, readGeminiAnswer } from './gemini-answer.ts'
import { classifyGeminiError } from './gemini-failures.ts'
import { geminiImageConfig } from './gemini-image-config.ts'
import { type Fetch, type ProcessingTime, postJson, timed, withTimeout } from './http-errors.ts'
import { sumTokenUsage } from './token-usage.ts'
import {
  type GenerateImagesRequest,
  type GenerateImagesResult,
  type ImageProvider,
  UpstreamFailure,
} from './types.ts'

export type GeminiProviderOptions = {
  /** Up to and including the version, e.g. `https://generativelanguage.googleapis.com/v1beta`. */
  baseUrl: string
  apiKey: string
  fetch: Fetch
  /** Per-attempt limit, on top of the request's own deadline. */
  timeoutMs?: number
  clock?: Clock
  /** How many calls of an n>1 request run at once (Gemini returns one image per call). */
  maxParallelCalls?: number
}

export const DEFAULT_GEMINI_SAFETY_SETTINGS = [
  'HARM_CATEGORY_HARASSMENT',
  'HARM_CATEGORY_HATE_SPEECH',
  'HARM_CATEGORY_SEXUALLY_EXPLICIT',
  'HARM_CATEGORY_DANGEROUS_CONTENT',
].map((category) => ({ category, threshold: 'BLOCK_MEDIUM_AND_ABOVE' }))

export function createGeminiProvider(options: GeminiProviderOptions): ImageProvider {
  const baseUrl = options.baseUrl.replace(/\/+$/, '')
  const clock = options.clock ?? systemClock
  const maxParallelCalls = Math.max(1, options.maxParallelCalls ?? 4)

  return {
    name: 'gemini',
    async generate(request: GenerateImagesRequest): Promise<GenerateImagesResult> {
      const { body, warnings, sentText } = buildRequestBody(request)
      const signal = withTimeout(request.signal, options.timeoutMs)
      const url = `${baseUrl}/models/${encodeURIComponent(request.upstreamModel)}:generateContent`
      const processing: ProcessingTime = { ms: 0 }
      const callOnce = async (): Promise<GeminiCallOutcome> => {
        const json = await postJson({
          provider: 'gemini',
          fetch: options.fetch,
          url,
          headers: { 'x-goog-api-key': options.apiKey },
          body,
          signal,
          clock,
          classifyError: classifyGeminiError,
          processing,
        })
        return timed(processing, () => readGeminiAnswer(json))
      }

      // candidateCount > 1 is not accepted by the image models: one call per image.
      const calls = Math.max(1, request.n)
      const settled = await settleBounded(calls, maxParallelCalls, callOnce)
      const outcomes: GeminiCallOutcome[] = []
      const failures: UpstreamFailure[] = []
      for (const result of settled) {
        if (result.status === 'fulfilled') {
          outcomes.push(result.value)
        } else if (result.reason instanceof UpstreamFailure) {
          failures.push(result.reason)
        } else {
          throw result.reason
        }
      }
      const [firstFailure] = failures
      if (outcomes.length === 0 && firstFailure) {
        throw firstFailure
      }
      if (firstFailure) {
        // The successful calls were billed: keep their images and say what happened to the rest.
        warnings.push(
          `${failures.length} of ${calls} Gemini calls failed (${firstFailure.kind}: ${firstFailure.message}); returning ${outcomes.length} images`,
        )
      }
      return {
        ...combine(outcomes, warnings, calls === 1),
        sentText,
        processingMs: processing.ms,
      }
    },
  }
}

/**
 * The generateContent body. The user turn is framed as the reference client frames it (strict
 * content rules on a first turn when the catalog asks, the refinement wording on a follow-up,
 * one sentence per input image, the pixel size), with the input images as inlineData before the
 * text; a refinement replays every earlier turn, the model's exactly as it was received.
 */
function buildRequestBody(request: GenerateImagesRequest): {
  body: Record<string, unknown>
  warnings: string[]
  sentText: string
} {
  const { imageConfig, warnings } = geminiImageConfig(request.upstreamModel, request.size)
  const generationConfig: Record<string, unknown> = {
    responseModalities: ['TEXT', 'IMAGE'],
    candidateCount: 1,
  }
  if (imageConfig) {
    generationConfig.imageConfig = imageConfig
  }
  if (request.seed !== undefined) {
    generationConfig.seed = request.seed
  }
  const chain = request.chain ?? []
  const { contents, sentText } = buildGeminiTurn({
    chain,
    prompt: request.prompt,
    inputs: request.inputs ?? [],
    maxTurns: request.maxTurns ?? chain.length + 1,
    // First turns only, as the reference does: a refinement inherits the rules from its history.
    ...(request.strictContent === undefined
      ? {}
      : { strictContent: request.strictContent && chain.length === 0 }),
    ...(request.size ? { size: request.size } : {}),
  })
  const body: Record<string, unknown> = {
    contents,
    generationConfig,
    safetySettings: request.safetySettings ?? DEFAULT_GEMINI_SAFETY_SETTINGS,
  }
  if (request.grounding) {
    body.tools = [{ googleSearch: {} }]
  }

  const notGeminiParameters = {
    quality: request.quality,
    output_format: request.outputFormat,
    output_compression: request.outputCompression,
    background: request.background,
    moderation: request.moderation,
    style: request.style,
    user: request.user,
    input_fidelity: request.inputFidelity,
  }
  if (request.mask) {
    warnings.push(
      `mask is not a Gemini parameter; ${request.upstreamModel} edits the whole image as the prompt says`,
    )
  }
  for (const [parameter, value] of Object.entries(notGeminiParameters)) {
    if (value !== undefined) {
      warnings.push(`${parameter} is not a Gemini parameter; not sent to ${request.upstreamModel}`)
    }
  }
  return { body, warnings, sentText }
}

function combine(
  outcomes: GeminiCallOutcome[],
  warnings: string[],
  single: boolean,
): GenerateImagesResult {
  const result: GenerateImagesResult = {
    images: outcomes.flatMap((outcome) => outcome.images),
    warnings,
    modelTurn: single ? outcomes[0]?.modelTurn : outcomes.map((outcome) => outcome.modelTurn),
  }
  const texts = outcomes.flatMap((outcome) => (outcome.text === undefined ? [] : [outcome.text]))
  if (texts.length > 0) {
    result.text = texts.join('\n\n')
  }
  const usage = sumTokenUsage(outcomes.map((outcome) => outcome.usage))
  if (usage) {
    result.usage = usage
  }
  return result
}

/** Runs `task` `count` times, at most `limit` at once, and waits for every run to settle. */
async function settleBounded<T>(
  count: number,
  limit: number,
  task: () => Promise<T>,
): Promise<PromiseSettledResult<T>[]> {
  const results: PromiseSettledResult<T>[] = []
  let next = 0
  const worker = async () => {
    while (next < count) {
      const index = next++
      try {
        results[index] = { status: 'fulfilled', value: await task() }
      } catch (reason) {
        results[index] = { status: 'rejected', reason }
      }
    }
  }
  await Promise.all(Array.from({ length: Math.min(limit, count) }, worker))
  return results
}
