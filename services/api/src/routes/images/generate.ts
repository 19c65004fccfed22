import { createRoute, type z } from '@hono/zod-openapi'
import type { TypedResponse } from 'hono'
import { errorResponses } from '../../errors/responses.ts'
import type { HandlerFactory } from '../../http/route-types.ts'
import {
  ImageGenerationRequestSchema,
  ImageGenerationResponseSchema,
} from '../../schemas/images.ts'

export const route = createRoute({
  method: 'post',
  path: '/v1/images/generations',
  operationId: 'createImageGeneration',
  tags: ['Images'],
  summary: 'Generate images (OpenAI-compatible)',
  description:
    'The OpenAI Images API shape: the official SDKs work with `baseURL` pointed here. Every image ' +
    'is verified and stored as an asset; `url` answers are signed links to the stored asset. ' +
    'Settings a model cannot honour are mapped or dropped and reported in `warnings`.',
  request: {
    body: {
      required: true,
      content: { 'application/json': { schema: ImageGenerationRequestSchema } },
    },
  },
  responses: {
    200: {
      description: 'The generated images',
      headers: {
        'x-imagegate-overhead-ms': {
          description:
            'Time imagegate added on top of the provider (parse, verify, hash, store, record)',
          schema: { type: 'string' },
        },
      },
      content: { 'application/json': { schema: ImageGenerationResponseSchema } },
    },
    ...errorResponses(400, 502, 503, 504),
  },
})

type ImageGenerationResponse = z.infer<typeof ImageGenerationResponseSchema>

export const handler: HandlerFactory<typeof route> = (deps) => async (c) => {
  const started = performance.now()
  const { response_format: responseFormat, ...input } = c.req.valid('json')
  const outcome = await deps.chargedGenerations.generate(c.get('charge'), c.get('workspaceId'), {
    ...input,
    operation: 'generate',
  })
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
    ...(outcome.usage
      ? {
          usage: {
            ...(outcome.usage.inputTokens === undefined
              ? {}
              : { input_tokens: outcome.usage.inputTokens }),
            ...(outcome.usage.outputTokens === undefined
              ? {}
              : { output_tokens: outcome.usage.outputTokens }),
            ...(outcome.usage.totalTokens === undefined
              ? {}
              : { total_tokens: outcome.usage.totalTokens }),
          },
        }
      : {}),
    generation_id: outcome.generation.id,
    model: outcome.model.id,
    cost: outcome.generation.costCents,
    warnings: outcome.plan.warnings,
  }
  const body = serializeAnswer(
    answer,
    responseFormat === 'url'
      ? []
      : outcome.images.map(
          ({ bytes, base64 }) =>
            base64 ??
            Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64'),
        ),
  )
  // Everything imagegate did on top of the provider, the answer's serialization included.
  c.header(
    'x-imagegate-overhead-ms',
    String(round(performance.now() - started - outcome.upstreamMs)),
  )
  c.header('content-type', 'application/json')
  // The bytes are the JSON of `answer` with each `b64_json` in place (see serializeAnswer).
  return c.body(body, 200) as unknown as TypedResponse<ImageGenerationResponse, 200, 'json'>
}

/**
 * `JSON.stringify` of the answer with `b64_json: base64[i]` as the first key of `data[i]`, as
 * UTF-8 bytes, without JSON.stringify scanning megabytes of base64 (which needs no escaping) and
 * without a 2 MB string being encoded to UTF-8 on the way to the socket: the small parts are
 * stringified and the base64 is copied in between them.
 */
export function serializeAnswer(
  answer: ImageGenerationResponse,
  base64: string[],
): Uint8Array<ArrayBuffer> {
  const { created, data, ...rest } = answer
  const pieces: { text: string; ascii: boolean }[] = []
  const json = (text: string) => pieces.push({ text, ascii: false })
  json(`{"created":${JSON.stringify(created)},"data":[`)
  data.forEach((item, index) => {
    const fields = JSON.stringify(item)
    const b64 = base64[index]
    if (index > 0) {
      json(',')
    }
    if (b64 === undefined) {
      json(fields)
      return
    }
    json('{"b64_json":"')
    pieces.push({ text: b64, ascii: true })
    json(fields === '{}' ? '"}' : `",${fields.slice(1)}`)
  })
  const tail = JSON.stringify(rest)
  json(tail === '{}' ? ']}' : `],${tail.slice(1)}`)

  let length = 0
  for (const piece of pieces) {
    length += piece.ascii ? piece.text.length : Buffer.byteLength(piece.text)
  }
  const bytes = Buffer.allocUnsafe(length)
  let offset = 0
  for (const piece of pieces) {
    offset += bytes.write(piece.text, offset, piece.ascii ? 'latin1' : 'utf8')
  }
  return bytes
}

function round(ms: number) {
  return Math.round(ms * 100) / 100
}
