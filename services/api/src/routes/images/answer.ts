import type { z } from '@hono/zod-openapi'
import type { Context, TypedResponse } from 'hono'
import type { AppDeps } from '../../deps.ts'
import type { AppEnv } from '../../http/env.ts'
import { afterAnswerWritten } from '../../http/response-headers.ts'
import { ImageGenerationResponseSchema } from '../../schemas/images.ts'
import type { GenerationOutcome } from '../../services/generation/types.ts'
import { answerSettings } from './answer-settings.ts'

export type ImageGenerationResponse = z.infer<typeof ImageGenerationResponseSchema>

/**
 * The declared 200 of the OpenAI-shaped image routes: JSON, or with `stream` the events of
 * `streamEvents`, one per `data:` line (see stream-answer.ts).
 */
export function imagesResponse(description: string, streamEvents: z.ZodType) {
  return {
    description,
    headers: {
      'x-imagegate-overhead-ms': {
        description:
          'Time imagegate added on top of the provider (parse, verify, hash, store, record)',
        schema: { type: 'string' as const },
      },
    },
    content: {
      'application/json': { schema: ImageGenerationResponseSchema },
      'text/event-stream': { schema: streamEvents },
    },
  }
}

/**
 * The OpenAI Images answer of a generation or an edit, with `x-imagegate-overhead-ms`: every
 * stored image as `b64_json` or as a signed `url`, plus imagegate's per-image asset fields.
 */
export function imagesAnswer(
  c: Context<AppEnv>,
  deps: Pick<AppDeps, 'config' | 'signedUrls'>,
  outcome: GenerationOutcome,
  responseFormat: 'b64_json' | 'url',
  started: number,
) {
  const origin = deps.config.publicUrl ?? new URL(c.req.url).origin
  const answer: ImageGenerationResponse = {
    created: Math.floor(new Date(outcome.generation.createdAt).getTime() / 1000),
    data: outcome.images.map(({ asset, revisedPrompt }) => ({
      ...(responseFormat === 'url'
        ? { url: `${origin}${deps.signedUrls.contentPath(c.get('workspaceId'), asset.id)}` }
        : {}),
      ...(revisedPrompt ? { revised_prompt: revisedPrompt } : {}),
      asset_id: asset.id,
      content_hash: asset.contentHash,
      media_type: asset.mediaType as 'image/png',
      width: asset.width ?? 0,
      height: asset.height ?? 0,
    })),
    ...answerSettings(outcome),
    generation_id: outcome.generation.id,
    model: outcome.model.id,
    cost: outcome.generation.costCents,
    warnings: outcome.plan.warnings,
  }
  const pieces = serializeAnswer(answer, responseFormat === 'url' ? [] : outcome.images)
  // The pieces are views of the provider's answer: its memory goes once they are written.
  if (outcome.releaseBuffers) {
    afterAnswerWritten(c, outcome.releaseBuffers)
  }
  // Everything imagegate did on top of the provider, the answer's serialization included.
  c.header(
    'x-imagegate-overhead-ms',
    String(round(performance.now() - started - outcome.upstreamMs)),
  )
  c.header('content-type', 'application/json')
  c.header('content-length', String(pieces.reduce((total, piece) => total + piece.length, 0)))
  // The JSON of `answer` with each `b64_json` in place, in pieces (see serializeAnswer).
  const body =
    pieces.length === 1
      ? (pieces[0] as Uint8Array<ArrayBuffer>)
      : new ReadableStream<Uint8Array>({
          start(controller) {
            for (const piece of pieces) {
              controller.enqueue(piece)
            }
            controller.close()
          },
        })
  return c.body(body, 200) as unknown as TypedResponse<ImageGenerationResponse, 200, 'json'>
}

/** An image's base64 for the answer: the provider's own text when it was standard, else made here. */
type Base64Source = { bytes: Uint8Array; base64?: string | Uint8Array }

/** Bytes per piece when encoding here: a multiple of 3, and a young-generation string. */
const ENCODE_PIECE_BYTES = 24 * 1024

/**
 * `JSON.stringify` of the answer with `b64_json` (the base64 of `images[i]`) as the first key of
 * `data[i]`, as UTF-8 bytes in pieces to be sent one after the other. JSON.stringify never scans
 * the megabytes of base64 (which need no escaping) and no 2 MB string is made or encoded to
 * UTF-8 on the way to the socket: the small parts are stringified, and base64 the provider sent
 * as bytes is sent as it is, a view of its answer, neither copied nor encoded again.
 */
export function serializeAnswer(
  answer: ImageGenerationResponse,
  images: readonly Base64Source[],
): Uint8Array[] {
  const { created, data, ...rest } = answer
  const pieces: Uint8Array[] = []
  let text = `{"created":${JSON.stringify(created)},"data":[`
  data.forEach((item, index) => {
    const fields = JSON.stringify(item)
    const image = images[index]
    if (index > 0) {
      text += ','
    }
    if (image === undefined) {
      text += fields
      return
    }
    pieces.push(Buffer.from(`${text}{"b64_json":"`), base64Bytes(image))
    text = fields === '{}' ? '"}' : `",${fields.slice(1)}`
  })
  const tail = JSON.stringify(rest)
  pieces.push(Buffer.from(`${text}${tail === '{}' ? ']}' : `],${tail.slice(1)}`}`))
  return pieces
}

/** An image's base64 as ASCII bytes: the provider's own when it sent standard base64, else made here. */
export function base64Bytes({ bytes, base64 }: Base64Source): Uint8Array {
  if (typeof base64 === 'string') {
    return Buffer.from(base64, 'latin1')
  }
  if (base64 !== undefined) {
    return base64
  }
  const source = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length)
  const encoded = Buffer.allocUnsafe(Math.ceil(source.length / 3) * 4)
  let offset = 0
  for (let start = 0; start < source.length; start += ENCODE_PIECE_BYTES) {
    const end = Math.min(source.length, start + ENCODE_PIECE_BYTES)
    offset += encoded.write(source.toString('base64', start, end), offset, 'latin1')
  }
  return encoded
}

function round(ms: number) {
  return Math.round(ms * 100) / 100
}
