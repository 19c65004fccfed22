import { createRoute, z } from '@hono/zod-openapi'
import type { RouteAccessRule } from '../../access/scopes.ts'
import { NotFoundError } from '../../errors/app-error.ts'
import { errorResponses } from '../../errors/responses.ts'
import { type HandlerFactory, mountRoute } from '../../http/route-types.ts'
import { GenerationSchema } from '../../schemas/generation.ts'
import { toGenerationDto } from '../../services/generation/dto.ts'

const GENERATION_ID_EXAMPLE = 'gen_01J9Z7Q8R4M2XK5T3B6N8V0WQB'

export const route = createRoute({
  method: 'get',
  path: '/v1/generations/{id}',
  operationId: 'getGeneration',
  tags: ['Generations'],
  summary: 'Get a generation record',
  description:
    'What was asked, every upstream attempt and its outcome, timings, cost and the assets produced.',
  request: {
    params: z.object({
      id: z
        .string()
        .max(64)
        .openapi({
          param: { name: 'id', in: 'path', example: GENERATION_ID_EXAMPLE },
          example: GENERATION_ID_EXAMPLE,
        }),
    }),
  },
  responses: {
    200: {
      description: 'The record',
      content: { 'application/json': { schema: GenerationSchema } },
    },
    ...errorResponses(400, 404),
  },
})

export const access: RouteAccessRule = { scope: 'read', rateLimit: 'requests' }

export const handler: HandlerFactory<typeof route, 'generationsRepo'> = (deps) => (c) => {
  const id = c.req.valid('param').id
  const row = deps.generationsRepo.get(c.get('workspaceId'), id)
  if (!row) {
    throw new NotFoundError('generation', id)
  }
  return c.json(toGenerationDto(row), 200)
}

export const register = mountRoute(route, handler)
