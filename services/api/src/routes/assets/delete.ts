import { createRoute } from '@hono/zod-openapi'
import { errorResponses } from '../../errors/responses.ts'
import type { HandlerFactory } from '../../http/route-types.ts'
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

export const handler: HandlerFactory<typeof route> = (deps) => (c) => {
  deps.assets.remove(c.get('workspaceId'), c.req.valid('param').id)
  return c.body(null, 204)
}
