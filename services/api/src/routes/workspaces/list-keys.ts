import { createRoute, z } from '@hono/zod-openapi'
import type { RouteAccessRule } from '../../access/scopes.ts'
import { errorResponses } from '../../errors/responses.ts'
import { type HandlerFactory, mountRoute } from '../../http/route-types.ts'
import { ApiKeyListSchema, WorkspaceIdParamSchema } from '../../schemas/admin.ts'

export const route = createRoute({
  method: 'get',
  path: '/v1/workspaces/{id}/keys',
  operationId: 'listApiKeys',
  tags: ['Admin'],
  summary: "List a workspace's API keys",
  description:
    'Every key of the workspace, revoked ones included (with `revokedAt`). Secrets are never ' +
    'listed: `displayPrefix` and `last4` tell keys apart.',
  request: { params: z.object({ id: WorkspaceIdParamSchema }) },
  responses: {
    200: {
      description: 'The keys',
      content: { 'application/json': { schema: ApiKeyListSchema } },
    },
    ...errorResponses(400, 404),
  },
})

export const access: RouteAccessRule = { scope: 'admin', rateLimit: 'requests' }

export const handler: HandlerFactory<typeof route, 'apiKeys'> = (deps) => async (c) =>
  c.json({ data: await deps.apiKeys.list(c.req.valid('param').id) }, 200)

export const register = mountRoute(route, handler)
