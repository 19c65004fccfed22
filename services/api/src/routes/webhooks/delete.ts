import { createRoute, z } from '@hono/zod-openapi'
import type { RouteAccessRule } from '../../access/scopes.ts'
import { errorResponses } from '../../errors/responses.ts'
import { type HandlerFactory, mountRoute } from '../../http/route-types.ts'
import { WorkspaceIdParamSchema } from '../../schemas/admin.ts'
import { WebhookIdParamSchema } from '../../schemas/webhooks.ts'

export const route = createRoute({
  method: 'delete',
  path: '/v1/workspaces/{id}/webhooks/{webhookId}',
  operationId: 'deleteWebhook',
  tags: ['Webhooks'],
  summary: 'Delete a webhook endpoint',
  description: 'No more deliveries are made to it; those still pending and its history go with it.',
  request: { params: z.object({ id: WorkspaceIdParamSchema, webhookId: WebhookIdParamSchema }) },
  responses: {
    204: { description: 'Deleted' },
    ...errorResponses(400, 404),
  },
})

export const access: RouteAccessRule = { scope: 'admin', rateLimit: 'requests' }

export const handler: HandlerFactory<typeof route, 'webhooks'> = (deps) => async (c) => {
  const { id, webhookId } = c.req.valid('param')
  await deps.webhooks.remove(id, webhookId)
  return c.body(null, 204)
}

export const register = mountRoute(route, handler)
