import { createRoute } from '@hono/zod-openapi'
import type { RouteAccessRule } from '../../access/scopes.ts'
import { errorResponses } from '../../errors/responses.ts'
import { type HandlerFactory, mountRoute } from '../../http/route-types.ts'
import { AssetIdParamsSchema, AssetSchema } from '../../schemas/asset.ts'
import { toAssetDto } from '../../services/asset-dto.ts'

export const route = createRoute({
  method: 'get',
  path: '/v1/assets/{id}',
  operationId: 'getAsset',
  tags: ['Assets'],
  summary: 'Get an asset',
  description: "An asset's metadata. Ids of other workspaces answer 404.",
  request: { params: AssetIdParamsSchema },
  responses: {
    200: { description: 'The asset', content: { 'application/json': { schema: AssetSchema } } },
    ...errorResponses(404),
  },
})

export const access: RouteAccessRule = { scope: 'read', rateLimit: 'requests' }

export const handler: HandlerFactory<typeof route, 'assets'> = (deps) => async (c) => {
  const row = await deps.assets.get(c.get('workspaceId'), c.req.valid('param').id)
  return c.json(toAssetDto(row), 200)
}

export const register = mountRoute(route, handler)
