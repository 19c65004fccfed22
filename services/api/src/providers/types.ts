import type { ConversationStep, InputImage } from '../refinement/types.ts'

/**
 * The one interface every image provider implements. Adapters receive their dependencies
 * (fetch, clock, randomness) at construction and never read the environment.
 */

export type ProviderName = 'local' | 'openai' | 'gemini'

export type ImageSize = { width: number; height: number }

export type GenerateImagesRequest = {
  /** The provider's own model name (the catalog's `upstreamModel`). */
  upstreamModel: string
  prompt: string
  /** Images wanted from this one call (the caller fans out above the model's per-call max). */
  n: number
  /** Pixel size; `undefined` means the provider's default ("auto"). */
  size: ImageSize | undefined
  quality?: string
  outputFormat?: 'png' | 'jpeg' | 'webp'
  outputCompression?: number
  background?: 'transparent' | 'opaque' | 'auto'
  moderation?: 'auto' | 'low'
  style?: 'vivid' | 'natural'
  user?: string
  seed?: number
  /** Gemini: Google Search grounding. */
  grounding?: boolean
  /** Gemini: safety settings from the catalog. */
  safetySettings?: { category: string; threshold: string }[]
  /**
   * Edits and image-to-image: the input images, in the order the prompt framing numbers them
   * (an `edit_target` first when there is one). Already sniffed and checked by the asset store.
   */
  inputs?: InputImage[]
  /** OpenAI edits: a PNG with alpha, the first input's size (checked by validateEditMask). */
  mask?: Uint8Array
  /**
   * Gemini refinements: the earlier steps, root first, each with its model turn exactly as it
   * was received. Empty or absent for a first generation.
   */
  chain?: ConversationStep[]
  /** The most turns (earlier steps + this request) the model accepts; the service checked it. */
  maxTurns?: number
  /** Apply the reference document's strict content constraint to a first turn (catalog). */
  strictContent?: boolean
  /** OpenAI GPT Image edits: how closely to follow the input images. */
  inputFidelity?: 'high' | 'low'
  /** Aborts the call when the request deadline passes. */
  signal: AbortSignal
  /**
   * Streaming: partial images (1–3) to hand on as they are made, before the call resolves with
   * the completed image: `onPartialImage` is called as a partial begins, and its writer is
   * given the base64 as it arrives. A provider that cannot stream ignores both.
   */
  partialImages?: number
  onPartialImage?: () => PartialImageWriter
}

/**
 * One partial image handed on while it arrives, so that megabytes of base64 go out to the
 * client as they come in rather than once the provider's whole event is in.
 */
export type PartialImageWriter = {
  /** More of the image's standard base64, as ASCII bytes, in order (a view the writer keeps). */
  base64(piece: Uint8Array): void
  /** The partial is complete: its index and what the provider said of it. */
  end(fields: Omit<PartialImage, 'base64'>): void
}

/** Hands on a partial image the provider has whole. */
export function handOnPartial(
  onPartialImage: () => PartialImageWriter,
  { base64, ...fields }: PartialImage,
): void {
  const writer = onPartialImage()
  writer.base64(base64)
  writer.end(fields)
}

/**
 * A partial image of a streamed generation, handed on as the provider sent it (not verified
 * or stored: only the completed image is).
 */
export type PartialImage = {
  /** 0-based, in the order the provider made them. */
  index: number
  /** Standard base64 of the image, as ASCII bytes (a view of what the provider sent). */
  base64: Uint8Array
  /** What the provider said of it, OpenAI's values; absent where it said nothing. */
  size?: string
  quality?: 'low' | 'medium' | 'high' | 'auto'
  background?: 'transparent' | 'opaque' | 'auto'
  outputFormat?: 'png' | 'jpeg' | 'webp'
}

export type ProviderImage = {
  bytes: Uint8Array
  /**
   * `bytes` as standard padded base64, when the provider sent exactly that text (checked, not
   * trusted), as a string or as its ASCII bytes: an answer can reuse it instead of encoding
   * megabytes again.
   */
  base64?: string | Uint8Array
  /**
   * Memory made for this call alone that holds `bytes` and `base64` (the decoded image, the
   * provider's answer they were read from): nothing else refers to it, so it can be released
   * once the generation's answer is written (storage/release-buffers.ts).
   */
  ownedBuffers?: ArrayBufferLike[]
  /** As the provider declared it; the gateway sniffs the bytes anyway. */
  declaredMediaType?: string
  revisedPrompt?: string
}

/**
 * Token counts as the provider reported them; a count it did not report is absent, never 0.
 * Flat, so that counts of several calls add up key by key and the record stores them as they are.
 */
export type TokenUsage = {
  inputTokens?: number
  outputTokens?: number
  totalTokens?: number
  /** The parts of `inputTokens` (OpenAI's `input_tokens_details`). */
  inputTextTokens?: number
  inputImageTokens?: number
  /** The parts of `outputTokens` (OpenAI's `output_tokens_details`). */
  outputTextTokens?: number
  outputImageTokens?: number
}

/** The settings a provider says it used, in the values the OpenAI SDKs type them with. */
export type ReportedImageSettings = {
  /** `<width>x<height>` */
  size?: string
  quality?: 'low' | 'medium' | 'high'
  background?: 'transparent' | 'opaque'
  outputFormat?: 'png' | 'jpeg' | 'webp'
}

export type GenerateImagesResult = {
  images: ProviderImage[]
  /** Settings the provider could not honour exactly, said out loud (never silently dropped). */
  warnings: string[]
  usage?: TokenUsage
  /** What the provider said about the images it made, where it said it (OpenAI's answer fields). */
  reported?: ReportedImageSettings
  /**
   * What a refinement needs to replay the model's turn (Gemini: every part of the model's
   * content, thoughtSignature included, exactly as received). Stored, never sent to clients.
   */
  modelTurn?: unknown
  /**
   * The user turn's text exactly as sent upstream (prompt framing included), when the provider
   * framed it: stored so a later refinement replays the history as the model saw it.
   */
  sentText?: string
  /** Text the model returned beside the image, if any. */
  text?: string
  /**
   * Time spent reading answers after they arrived (JSON, base64, image checks): imagegate's
   * overhead, not the provider's, although it happens inside `generate`.
   */
  processingMs?: number
}

export interface ImageProvider {
  readonly name: ProviderName
  generate(request: GenerateImagesRequest): Promise<GenerateImagesResult>
}

/**
 * How a provider call failed, in the terms the retry policy decides on. Adapters classify; the
 * executor decides.
 */
export type UpstreamFailureKind =
  /** The request never left (DNS, refused, TLS, pool timeout): safe to retry. */
  | 'not_sent'
  /** 429 rate limit / slow_down: not processed, retry after the advised delay. */
  | 'rate_limited'
  /** 502/503/504 from the provider or its proxy: not processed, retry. */
  | 'unavailable'
  /** 500, reset or read timeout after the body was sent: may have been processed; never replayed blindly. */
  | 'ambiguous'
  /** The per-request deadline passed. */
  | 'timeout'
  /** 400/404/413/422 and friends: the request itself is wrong. */
  | 'rejected'
  /** 401/403: the operator's key is wrong. */
  | 'auth'
  /** Safety system refused the prompt (stage input) or the result (stage output). */
  | 'content_policy'
  /** The operator's upstream quota or billing limit (insufficient_quota, billing_hard_limit_reached). */
  | 'quota'
  /** 200 that is unusable: malformed JSON, truncated base64, no image. */
  | 'bad_response'

export class UpstreamFailure extends Error {
  readonly kind: UpstreamFailureKind
  readonly provider: ProviderName
  readonly status: number | undefined
  /** Advised wait from retry-after-ms / Retry-After, already parsed to milliseconds. */
  readonly retryAfterMs: number | undefined
  readonly stage: 'input' | 'output' | undefined
  readonly reason: string | undefined
  readonly finishReason: string | undefined
  readonly upstreamCode: string | undefined

  constructor(
    kind: UpstreamFailureKind,
    provider: ProviderName,
    message: string,
    details: {
      status?: number
      retryAfterMs?: number
      stage?: 'input' | 'output'
      reason?: string
      finishReason?: string
      upstreamCode?: string
      cause?: unknown
    } = {},
  ) {
    super(message, { cause: details.cause })
    this.name = 'UpstreamFailure'
    this.kind = kind
    this.provider = provider
    this.status = details.status
    this.retryAfterMs = details.retryAfterMs
    this.stage = details.stage
    this.reason = details.reason
    this.finishReason = details.finishReason
    this.upstreamCode = details.upstreamCode
  }
}
