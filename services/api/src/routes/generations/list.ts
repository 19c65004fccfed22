import { createRoute, z } from '@hono/zod-openapi'
import type { RouteAccessRule } from '../../access/scopes.ts'
import { errorResponses } from '../../errors/responses.ts'
import { type HandlerFactory, mountRoute } from '../../http/route-types.ts'
import { GenerationPageSchema } from '../../schemas/generation.ts'
import { PaginationQuerySchema } from '../../schemas/pagination.ts'
import { toGenerationDto } from '../../services/generation/dto.ts'
import { keysetPage, pageAfter } from '../../services/page-cursor.ts'

const query = (name: string, description: string) => ({
  param: { name, in: 'query' as const },
  description,
})

const ListGenerationsQuerySchema = PaginationQuerySchema.extend({
  status: z
    .enum(['queued', 'running', 'succeeded', 'failed', 'cancelled'])
    .optional()
    .openapi(query('status', 'Only records in this status')),
  model: z.string().max(200).optional().openapi(query('model', 'Only records of this model')),
  provider: z
    .enum(['local', 'openai', 'gemini'])
    .optional()
    .openapi(query('provider', 'Only records of this provider')),
  rootId: z
    .string()
    .max(64)
    .optional()
    .openapi(query('rootId', 'A whole refinement chain, oldest first')),
  createdAfter: z.iso
    .datetime()
    .optional()
    .openapi(query('createdAfter', 'Created at or after this instant')),
  createdBefore: z.iso
    .datetime()
    .optional()
    .openapi(query('createdBefore', 'Created at or before this instant')),
})

export const route = createRoute({
  method: 'get',
  path: '/v1/generations',
  operationId: 'listGenerations',
  tags: ['Generations'],
  summary: 'List generation records',
  description:
    'Newest first (a chain selected with `rootId`: oldest first), with keyset pagination.',
  request: { query: ListGenerationsQuerySchema },
  responses: {
    200: {
      description: 'A page of records',
      content: { 'application/json': { schema: GenerationPageSchema } },
    },
    ...errorResponses(400),
  },
})

export const access: RouteAccessRule = { scope: 'read', rateLimit: 'requests' }

export const handler: HandlerFactory<typeof route, 'generationsRepo'> = (deps) => async (c) => {
  const { limit, cursor, ...filter } = c.req.valid('query')
  const afterId = pageAfter(cursor)
  const rows = await deps.generationsRepo.list(c.get('workspaceId'), filter, { limit, afterId })
  const page = keysetPage(rows, limit)
  return c.json(
    {
      data: page.data.map((row) => toGenerationDto(row)),
      nextCursor: page.nextCursor,
      hasMore: page.hasMore,
    },
    200,
  )
}

export const register = mountRoute(route, handler)
