import { createRoute, z } from '@hono/zod-openapi'
import type { RouteAccessRule } from '../../access/scopes.ts'
import { errorResponses } from '../../errors/responses.ts'
import { type HandlerFactory, mountRoute } from '../../http/route-types.ts'
import { AssetKindSchema, AssetPageSchema, MediaTypeSchema } from '../../schemas/asset.ts'
import { PaginationQuerySchema } from '../../schemas/pagination.ts'
import { toAssetDto } from '../../services/asset-dto.ts'

const query = (name: string, description: string) => ({
  param: { name, in: 'query' as const },
  description,
})

const ListAssetsQuerySchema = PaginationQuerySchema.extend({
  kind: AssetKindSchema.optional().openapi(query('kind', 'Only assets of this kind')),
  folderPath: z
    .string()
    .max(500)
    .optional()
    .openapi(query('folderPath', 'Only assets whose folderPath starts with this prefix')),
  sourceTaskId: z
    .string()
    .max(200)
    .optional()
    .openapi(query('sourceTaskId', 'Only assets of this task')),
  mediaType: MediaTypeSchema.optional().openapi(
    query('mediaType', 'Only assets of this media type'),
  ),
  createdAfter: z.iso
    .datetime()
    .optional()
    .openapi(query('createdAfter', 'Only assets created at or after this instant')),
  createdBefore: z.iso
    .datetime()
    .optional()
    .openapi(query('createdBefore', 'Only assets created at or before this instant')),
})

export const route = createRoute({
  method: 'get',
  path: '/v1/assets',
  operationId: 'listAssets',
  tags: ['Assets'],
  summary: 'List assets',
  description:
    'Newest first, with keyset pagination: pass `nextCursor` as `cursor` for the next page. Each ' +
    'page costs the same however many assets the workspace has.',
  request: { query: ListAssetsQuerySchema },
  responses: {
    200: {
      description: 'A page of assets',
      content: { 'application/json': { schema: AssetPageSchema } },
    },
    ...errorResponses(400),
  },
})

export const access: RouteAccessRule = { scope: 'read', rateLimit: 'requests' }

export const handler: HandlerFactory<typeof route, 'assets'> = (deps) => async (c) => {
  const { limit, cursor, ...filter } = c.req.valid('query')
  const page = await deps.assets.list(c.get('workspaceId'), filter, { limit, cursor })
  return c.json(
    { data: page.data.map(toAssetDto), nextCursor: page.nextCursor, hasMore: page.hasMore },
    200,
  )
}

export const register = mountRoute(route, handler)
