import { createRoute } from '@hono/zod-openapi'
import type { RouteAccessRule } from '../../access/scopes.ts'
import { errorResponses } from '../../errors/responses.ts'
import { type HandlerFactory, mountRoute } from '../../http/route-types.ts'
import { WorkspaceListSchema } from '../../schemas/admin.ts'

export const route = createRoute({
  method: 'get',
  path: '/v1/workspaces',
  operationId: 'listWorkspaces',
  tags: ['Admin'],
  summary: 'List workspaces',
  description: 'Every workspace of this server with its spendable balance, oldest first.',
  responses: {
    200: {
      description: 'The workspaces',
      content: { 'application/json': { schema: WorkspaceListSchema } },
    },
    ...errorResponses(500),
  },
})

export const access: RouteAccessRule = { scope: 'admin', rateLimit: 'requests' }

export const handler: HandlerFactory<typeof route, 'workspaces'> = (deps) => async (c) =>
  c.json({ data: await deps.workspaces.list() }, 200)

export const register = mountRoute(route, handler)
