import { createRoute } from '@hono/zod-openapi'
import type { RouteAccessRule } from '../../access/scopes.ts'
import { errorResponses } from '../../errors/responses.ts'
import { type HandlerFactory, mountRoute } from '../../http/route-types.ts'
import { ModelListSchema } from '../../schemas/generation.ts'

export const route = createRoute({
  method: 'get',
  path: '/v1/models',
  operationId: 'listModels',
  tags: ['Models'],
  summary: 'List models',
  description:
    'The model catalog in the OpenAI list shape, each model with its provider, whether this ' +
    'gateway can serve it, its capabilities and its price per image.',
  responses: {
    200: {
      description: 'The catalog',
      content: { 'application/json': { schema: ModelListSchema } },
    },
    ...errorResponses(500),
  },
})

export const access: RouteAccessRule = { scope: 'read', rateLimit: 'requests' }

export const handler: HandlerFactory<typeof route, 'catalog'> = (deps) => (c) =>
  c.json(
    {
      object: 'list' as const,
      data: deps.catalog.models.map((model) => ({
        id: model.id,
        object: 'model' as const,
        created: 0,
        owned_by: model.provider === 'local' ? 'imagegate' : model.provider,
        provider: model.provider,
        available: deps.catalog.isEnabled(model),
        description: model.description,
        capabilities: {
          sizes: [...model.sizes],
          default_size: model.defaultSize,
          max_n: model.maxN,
          parameters: [...model.parameters],
          qualities: [...model.qualities],
          edits: model.edits,
          max_input_images: model.edits ? model.maxInputImages : 0,
          max_turns: model.maxTurns,
          streaming: model.streaming,
        },
        pricing: {
          unit: 'usd_cents_per_image' as const,
          per_image: model.pricePerImage as Record<string, Record<string, number>>,
        },
      })),
    },
    200,
  )

export const register = mountRoute(route, handler)
