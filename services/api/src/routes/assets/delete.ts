import { createRoute } from '@hono/zod-openapi'
import type { RouteAccessRule } from '../../access/scopes.ts'
import { errorResponses } from '../../errors/responses.ts'
import { type HandlerFactory, mountRoute } from '../../http/route-types.ts'
import { AssetIdParamsSchema } from '../../schemas/asset.ts'

export const route = createRoute({
  method: 'delete',
  path: '/v1/assets/{id}',
  operationId: 'deleteAsset',
  tags: ['Assets'],
  summary: 'Delete an asset',
  description:
    'Removes the asset from the workspace. The stored bytes are collected by GC once no asset of ' +
    'any workspace references them.',
  request: { params: AssetIdParamsSchema },
  responses: {
    204: { description: 'Deleted' },
    ...errorResponses(404),
  },
})

export const access: RouteAccessRule = { scope: 'generate', rateLimit: 'requests' }

export const handler: HandlerFactory<typeof route, 'assets'> = (deps) => async (c) => {
  await deps.assets.remove(c.get('workspaceId'), c.req.valid('param').id)
  return c.body(null, 204)
}

export const register = mountRoute(route, handler)
