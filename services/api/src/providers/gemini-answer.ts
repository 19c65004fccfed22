import { z } from 'zod'
import { badResponse, shorten } from './http-errors.ts'
import { readImageBase64 } from './image-payload.ts'
import { type GenerateImagesResult, type ProviderImage, UpstreamFailure } from './types.ts'

/** Reading one generateContent 200: the image, the text, the turn to replay, or the refusal. */

const partSchema = z.object({
  text: z.string().optional(),
  thought: z.boolean().optional(),
  inlineData: z.object({ mimeType: z.string().optional(), data: z.string() }).optional(),
})

const responseSchema = z.object({
  candidates: z
    .array(
      z.object({
        // Kept as received: a refinement must replay it byte for byte, thoughtSignature included.
        content: z.unknown().optional(),
        finishReason: z.string().optional(),
        finishMessage: z.string().optional(),
      }),
    )
    .optional(),
  promptFeedback: z
    .object({ blockReason: z.string().optional(), blockReasonMessage: z.string().optional() })
    .optional(),
  usageMetadata: z
    .object({
      promptTokenCount: z.number().optional(),
      candidatesTokenCount: z.number().optional(),
      thoughtsTokenCount: z.number().optional(),
      totalTokenCount: z.number().optional(),
    })
    .optional(),
})

const contentSchema = z.object({ parts: z.array(partSchema).optional() })

/** The finished candidate names the generated image: the output was refused. */
const OUTPUT_POLICY_REASONS = new Set(['IMAGE_SAFETY', 'IMAGE_PROHIBITED_CONTENT'])
/** Text-level refusals, which image models give before anything is drawn: the prompt was refused. */
const INPUT_POLICY_REASONS = new Set(['SAFETY', 'PROHIBITED_CONTENT', 'BLOCKLIST', 'SPII'])

type Usage = NonNullable<GenerateImagesResult['usage']>
export type GeminiCallOutcome = {
  images: ProviderImage[]
  modelTurn: unknown
  text?: string
  usage?: Usage
}

export function readGeminiAnswer(json: unknown): GeminiCallOutcome {
  const parsed = responseSchema.safeParse(json)
  if (!parsed.success) {
    throw badResponse('gemini', 'answered 200 without a generateContent response', {
      status: 200,
      cause: parsed.error,
    })
  }
  const answer = parsed.data
  const blockReason = answer.promptFeedback?.blockReason
  if (blockReason) {
    const reason = answer.promptFeedback?.blockReasonMessage ?? blockReason
    throw new UpstreamFailure(
      'content_policy',
      'gemini',
      `Gemini's safety system refused the prompt (${blockReason})`,
      { status: 200, stage: 'input', reason, upstreamCode: blockReason },
    )
  }

  const candidate = answer.candidates?.[0]
  const content = contentSchema.safeParse(candidate?.content ?? {})
  if (!content.success) {
    throw badResponse('gemini', 'answered 200 with unreadable content parts', {
      status: 200,
      cause: content.error,
    })
  }
  // Thought parts are the model's drafts (text and interim images), not the answer.
  const parts = (content.data.parts ?? []).filter((part) => part.thought !== true)
  const imageParts = parts.flatMap((part) =>
    part.inlineData && (part.inlineData.mimeType ?? 'image/').startsWith('image/')
      ? [part.inlineData]
      : [],
  )
  const images = imageParts.map((inlineData, index) => {
    const image: ProviderImage = readImageBase64(
      'gemini',
      inlineData.data,
      `image part ${index + 1}`,
    )
    if (inlineData.mimeType) {
      image.declaredMediaType = inlineData.mimeType
    }
    return image
  })
  const texts = parts.flatMap((part) => (part.text ? [part.text] : []))
  const text = texts.length > 0 ? texts.join('\n') : undefined
  const finishReason = candidate?.finishReason

  if (images.length === 0) {
    throw noImageFailure(finishReason, candidate?.finishMessage, text, candidate !== undefined)
  }
  const outcome: GeminiCallOutcome = { images, modelTurn: candidate?.content }
  if (text !== undefined) {
    outcome.text = text
  }
  const usage = answer.usageMetadata
  if (usage) {
    const output =
      usage.candidatesTokenCount === undefined && usage.thoughtsTokenCount === undefined
        ? undefined
        : // Thinking tokens are billed as output.
          (usage.candidatesTokenCount ?? 0) + (usage.thoughtsTokenCount ?? 0)
    outcome.usage = {
      inputTokens: usage.promptTokenCount,
      outputTokens: output,
      totalTokens: usage.totalTokenCount,
    }
  }
  return outcome
}

function noImageFailure(
  finishReason: string | undefined,
  finishMessage: string | undefined,
  text: string | undefined,
  hadCandidate: boolean,
): UpstreamFailure {
  if (
    finishReason &&
    (OUTPUT_POLICY_REASONS.has(finishReason) || INPUT_POLICY_REASONS.has(finishReason))
  ) {
    const stage = OUTPUT_POLICY_REASONS.has(finishReason) ? 'output' : 'input'
    return new UpstreamFailure(
      'content_policy',
      'gemini',
      `Gemini's safety system refused the ${stage === 'input' ? 'prompt' : 'image'} (${finishReason})`,
      {
        status: 200,
        stage,
        reason: finishMessage ?? text ?? finishReason,
        finishReason,
        upstreamCode: finishReason,
      },
    )
  }
  const problem = hadCandidate
    ? `answered without an image (finishReason ${finishReason ?? 'none'})`
    : 'answered with no candidates'
  return badResponse('gemini', problem, {
    status: 200,
    finishReason,
    reason: text === undefined ? finishMessage : shorten(text, 1000),
    snippet: text ?? finishMessage,
  })
}
