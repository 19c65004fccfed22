import { createRoute } from '@hono/zod-openapi'
import { errorResponses } from '../../errors/responses.ts'
import type { HandlerFactory } from '../../http/route-types.ts'
import {
  ImageGenerationRequestSchema,
  ImageGenerationResponseSchema,
} from '../../schemas/images.ts'
import { assetContentPath } from '../../services/asset-dto.ts'

export const route = createRoute({
  method: 'post',
  path: '/v1/images/generations',
  operationId: 'createImageGeneration',
  tags: ['Images'],
  summary: 'Generate images (OpenAI-compatible)',
  description:
    'The OpenAI Images API shape: the official SDKs work with `baseURL` pointed here. Every image ' +
    'is verified and stored as an asset; `url` answers point at the stored asset and never expire. ' +
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

export const handler: HandlerFactory<typeof route> = (deps) => async (c) => {
  const { response_format: responseFormat, ...input } = c.req.valid('json')
  const outcome = await deps.generations.generate(c.get('workspaceId'), {
    ...input,
    operation: 'generate',
  })
  const origin = deps.config.publicUrl ?? new URL(c.req.url).origin
  c.header('x-imagegate-overhead-ms', String(outcome.overheadMs))
  return c.json(
    {
      created: Math.floor(new Date(outcome.generation.createdAt).getTime() / 1000),
      data: outcome.images.map(({ asset, bytes, revisedPrompt }) => ({
        ...(responseFormat === 'url'
          ? { url: `${origin}${assetContentPath(asset.id)}` }
          : { b64_json: Buffer.from(bytes).toString('base64') }),
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
    },
    200,
  )
}
