import { createRoute, z } from '@hono/zod-openapi'
import type { RouteAccessRule } from '../../access/scopes.ts'
import { errorResponses } from '../../errors/responses.ts'
import { type HandlerFactory, mountRoute } from '../../http/route-types.ts'
import { WorkspaceIdParamSchema } from '../../schemas/admin.ts'
import { WebhookListSchema } from '../../schemas/webhooks.ts'

export const route = createRoute({
  method: 'get',
  path: '/v1/workspaces/{id}/webhooks',
  operationId: 'listWebhooks',
  tags: ['Webhooks'],
  summary: "List a workspace's webhook endpoints",
  description:
    'Every endpoint, disabled ones included (with `disabledAt`). Secrets are never listed.',
  request: { params: z.object({ id: WorkspaceIdParamSchema }) },
  responses: {
    200: {
      description: 'The endpoints',
      content: { 'application/json': { schema: WebhookListSchema } },
    },
    ...errorResponses(400, 404),
  },
})

export const access: RouteAccessRule = { scope: 'admin', rateLimit: 'requests' }

export const handler: HandlerFactory<typeof route, 'webhooks'> = (deps) => async (c) =>
  c.json({ data: await deps.webhooks.list(c.req.valid('param').id) }, 200)

export const register = mountRoute(route, handler)
