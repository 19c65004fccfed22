import { createRoute } from '@hono/zod-openapi'
import { errorResponses } from '../../errors/responses.ts'
import type { HandlerFactory } from '../../http/route-types.ts'
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

export const handler: HandlerFactory<typeof route> = (deps) => (c) =>
  c.json({ data: deps.workspaces.list() }, 200)
