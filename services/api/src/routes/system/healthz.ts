import { createRoute, z } from '@hono/zod-openapi'
import type { RouteAccessRule } from '../../access/scopes.ts'
import { errorResponses } from '../../errors/responses.ts'
import { type HandlerFactory, mountRoute } from '../../http/route-types.ts'

export const route = createRoute({
  method: 'get',
  path: '/healthz',
  operationId: 'getHealth',
  tags: ['System'],
  summary: 'Liveness',
  description: 'Answers 200 while the process is up. Does not touch the database.',
  responses: {
    200: {
      description: 'The process is alive',
      content: {
        'application/json': {
          schema: z.strictObject({ status: z.literal('ok') }).openapi('Health'),
          example: { status: 'ok' },
        },
      },
    },
    ...errorResponses(500),
  },
})

export const access: RouteAccessRule = { scope: 'public' }

export const handler: HandlerFactory<typeof route> = () => (c) =>
  c.json({ status: 'ok' as const }, 200)

export const register = mountRoute(route, handler)
