import type { AppError } from '../../errors/app-error.ts'
import { errorAnswer } from '../../errors/handlers.ts'
import { eventFrame } from '../../http/sse.ts'
import type { PartialImage } from '../../providers/types.ts'
import type { ImageStreamCompletedEvent } from '../../schemas/image-stream.ts'
import type { GenerationOutcome, PreparedGeneration } from '../../services/generation/types.ts'
import { base64Bytes } from './answer.ts'
import { answerSettings } from './answer-settings.ts'

/** `image_generation` for POST /v1/images/generations, `image_edit` for /v1/images/edits. */
export type StreamOperation = 'image_generation' | 'image_edit'

type Settings = Pick<ImageStreamCompletedEvent, 'size' | 'quality' | 'background' | 'output_format'>

const QUALITIES = new Set(['low', 'medium', 'high', 'auto'])

/** What was asked for, in OpenAI's event values: what an event says where the provider did not. */
export function requestedSettings(prepared: PreparedGeneration): Settings {
  const { input, plan } = prepared
  const quality = plan.quality ?? input.quality
  return {
    size: plan.size,
    quality: quality && QUALITIES.has(quality) ? (quality as Settings['quality']) : 'auto',
    background: input.background ?? 'auto',
    output_format: input.output_format ?? 'png',
  }
}

/**
 * A JSON object with `b64_json` as its second member, in pieces: the base64 is a view passed
 * on, never made into a string or copied (see serializeAnswer in answer.ts).
 */
function withBase64(type: string, base64: Uint8Array, fields: object): Uint8Array[] {
  const rest = JSON.stringify(fields)
  return [
    Buffer.from(`{"type":${JSON.stringify(type)},"b64_json":"`),
    base64,
    Buffer.from(rest === '{}' ? '"}' : `",${rest.slice(1)}`),
  ]
}

/**
 * A partial image's event in two parts, so that its base64 can go out between them as it
 * arrives: the head ends inside the `b64_json` string, the tail closes it and carries the
 * fields.
 */
export function partialHead(operation: StreamOperation): Uint8Array {
  const type = `${operation}.partial_image`
  return Buffer.from(`event: ${type}\ndata: {"type":${JSON.stringify(type)},"b64_json":"`)
}

export function partialTail(
  fields: Omit<PartialImage, 'base64'>,
  requested: Settings,
  createdAt: number,
): Uint8Array {
  const rest = JSON.stringify({
    partial_image_index: fields.index,
    created_at: createdAt,
    size: fields.size ?? requested.size,
    quality: fields.quality ?? requested.quality,
    background: fields.background ?? requested.background,
    output_format: fields.outputFormat ?? requested.output_format,
  })
  return Buffer.from(`",${rest.slice(1)}\n\n`)
}

/**
 * The completed event of a generation's stored image: OpenAI's fields (the stored image's size
 * and format; quality, background and usage as the provider reported them, else as requested)
 * and the asset it is stored as.
 */
export function completedFrame(
  operation: StreamOperation,
  outcome: GenerationOutcome,
  requested: Settings,
  createdAt: number,
): Uint8Array[] {
  const type = `${operation}.completed`
  const [image] = outcome.images
  if (!image) {
    throw new Error('A completed generation has an image')
  }
  const known = answerSettings({ ...outcome, images: [image] })
  const fields: Omit<ImageStreamCompletedEvent, 'type' | 'b64_json'> = {
    created_at: createdAt,
    size: known.size ?? requested.size,
    quality: known.quality ?? requested.quality,
    background: known.background ?? requested.background,
    output_format: known.output_format ?? requested.output_format,
    ...(known.usage ? { usage: known.usage } : {}),
    asset_id: image.asset.id,
    content_hash: image.asset.contentHash,
    generation_id: outcome.generation.id,
  }
  return eventFrame(type, withBase64(type, base64Bytes(image), fields))
}

/** A failure after the stream started, as the last event: the error object of the error table. */
export function errorFrame(err: AppError, requestId: string): Uint8Array[] {
  const { error } = JSON.parse(errorAnswer(err, { method: 'POST', requestId }).body) as {
    error: unknown
  }
  return eventFrame('error', [Buffer.from(JSON.stringify({ type: 'error', error }))])
}
