import { createRoute } from '@hono/zod-openapi'
import type { RouteAccessRule } from '../../access/scopes.ts'
import { errorResponses } from '../../errors/responses.ts'
import { type HandlerFactory, mountRoute } from '../../http/route-types.ts'
import { WorkspaceCreateSchema, WorkspaceSchema } from '../../schemas/admin.ts'

export const route = createRoute({
  method: 'post',
  path: '/v1/workspaces',
  operationId: 'createWorkspace',
  tags: ['Admin'],
  summary: 'Create a workspace',
  description:
    'A new workspace with its own assets, generations, keys and credits, starting with ' +
    '`initialCredits` (default 0). Give its users keys from POST /v1/workspaces/{id}/keys.',
  request: {
    body: { required: true, content: { 'application/json': { schema: WorkspaceCreateSchema } } },
  },
  responses: {
    201: {
      description: 'The new workspace',
      content: { 'application/json': { schema: WorkspaceSchema } },
    },
    ...errorResponses(400),
  },
})

export const access: RouteAccessRule = { scope: 'admin', rateLimit: 'requests', idempotent: true }

export const handler: HandlerFactory<typeof route, 'workspaces'> = (deps) => async (c) => {
  const input = c.req.valid('json')
  const reference = c.get('charge')?.requestReference ?? c.get('requestId')
  return c.json(await deps.workspaces.create(input, reference), 201)
}

export const register = mountRoute(route, handler)
