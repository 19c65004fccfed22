import { createRoute, z } from '@hono/zod-openapi'
import type { RouteAccessRule } from '../../access/scopes.ts'
import { errorResponses } from '../../errors/responses.ts'
import { type HandlerFactory, mountRoute } from '../../http/route-types.ts'
import { UsageSchema, WorkspaceIdParamSchema } from '../../schemas/admin.ts'

export const route = createRoute({
  method: 'get',
  path: '/v1/workspaces/{id}/usage',
  operationId: 'getUsage',
  tags: ['Admin'],
  summary: "A workspace's credits and spending",
  description:
    'The balance, what was granted, spent and is held right now, and spending by UTC day and ' +
    'model, from the ledger. Free models (the local renderer) never reach the ledger.',
  request: { params: z.object({ id: WorkspaceIdParamSchema }) },
  responses: {
    200: {
      description: 'The summary',
      content: { 'application/json': { schema: UsageSchema } },
    },
    ...errorResponses(400, 404),
  },
})

export const access: RouteAccessRule = { scope: 'admin', rateLimit: 'requests' }

export const handler: HandlerFactory<typeof route, 'credits' | 'workspaces'> =
  (deps) => async (c) => {
    const { id } = c.req.valid('param')
    await deps.workspaces.get(id)
    return c.json(await deps.credits.usage(id), 200)
  }

export const register = mountRoute(route, handler)
