import { createRoute } from '@hono/zod-openapi'
import type { RouteAccessRule } from '../../access/scopes.ts'
import { errorResponses } from '../../errors/responses.ts'
import {
  acceptedAnswer,
  acceptedResponse,
  PreferHeadersSchema,
  prefersRespondAsync,
} from '../../http/respond-async.ts'
import { type HandlerFactory, mountRoute } from '../../http/route-types.ts'
import type { InputImageRef } from '../../refinement/types.ts'
import { ImageGenerationStreamEventSchema } from '../../schemas/image-stream.ts'
import { ImageGenerationRequestSchema } from '../../schemas/images.ts'
import { imagesAnswer, imagesResponse } from './answer.ts'
import { streamAnswer } from './stream-answer.ts'

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
    headers: PreferHeadersSchema,
    body: {
      required: true,
      content: { 'application/json': { schema: ImageGenerationRequestSchema } },
    },
  },
  responses: {
    200: imagesResponse('The generated images', ImageGenerationStreamEventSchema),
    ...acceptedResponse,
    ...errorResponses(400, 404, 502, 503, 504),
  },
})

export const access: RouteAccessRule = {
  scope: 'generate',
  rateLimit: 'images',
  idempotent: true,
  charged: true,
}

export const handler: HandlerFactory<
  typeof route,
  'clock' | 'config' | 'generation' | 'inFlight' | 'jobs' | 'signedUrls'
> = (deps) => async (c) => {
  const started = performance.now()
  const {
    response_format: responseFormat,
    parent_generation_id: parentGenerationId,
    parent_asset_id: parentAssetId,
    input_images: inputImages,
    webhook_url: webhookUrl,
    stream,
    partial_images: partialImages,
    ...rest
  } = c.req.valid('json')
  const input = {
    ...rest,
    ...(webhookUrl ? { webhookUrl } : {}),
    ...(parentGenerationId ? { parentGenerationId } : {}),
    ...(parentAssetId ? { parentAssetId } : {}),
    ...(inputImages ? { inputs: inputImages.map(toInputRef) } : {}),
    operation: 'generate' as const,
  }
  if (stream) {
    const prepared = await deps.generation.prepare(c.get('workspaceId'), input)
    const operation = 'image_generation'
    return streamAnswer(c, deps, prepared, { operation, partialImages }) as never
  }
  if (prefersRespondAsync(c.req.valid('header').prefer)) {
    const prepared = await deps.generation.prepareRecorded(c.get('workspaceId'), input)
    return acceptedAnswer(c, await deps.jobs.accept(prepared, c.get('charge')))
  }
  const outcome = await deps.generation.generate(c.get('workspaceId'), input, c.get('charge'))
  return imagesAnswer(c, deps, outcome, responseFormat, started)
}

/** An `input_images` entry as the generation records it. */
export function toInputRef(image: {
  asset_id: string
  role: string
  display_name?: string | undefined
}): InputImageRef {
  return {
    assetId: image.asset_id,
    role: image.role,
    ...(image.display_name ? { displayName: image.display_name } : {}),
  }
}

export const register = mountRoute(route, handler)
