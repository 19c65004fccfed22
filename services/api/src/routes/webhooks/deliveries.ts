import { createRoute, z } from '@hono/zod-openapi'
import type { RouteAccessRule } from '../../access/scopes.ts'
import { errorResponses } from '../../errors/responses.ts'
import { type HandlerFactory, mountRoute } from '../../http/route-types.ts'
import { WorkspaceIdParamSchema } from '../../schemas/admin.ts'
import { PaginationQuerySchema } from '../../schemas/pagination.ts'
import { WebhookDeliveryPageSchema, WebhookIdParamSchema } from '../../schemas/webhooks.ts'
import { keysetPage, pageAfter } from '../../services/page-cursor.ts'

export const route = createRoute({
  method: 'get',
  path: '/v1/workspaces/{id}/webhooks/{webhookId}/deliveries',
  operationId: 'listWebhookDeliveries',
  tags: ['Webhooks'],
  summary: "List an endpoint's deliveries and their attempts",
  description:
    'Newest first, with keyset pagination. Each delivery is one event; its attempts say when, ' +
    'how long, and what the receiver answered (or why nothing came). A failed attempt is ' +
    'retried with exponential backoff and jitter for 24 hours (`nextAttemptAt`).',
  request: {
    params: z.object({ id: WorkspaceIdParamSchema, webhookId: WebhookIdParamSchema }),
    query: PaginationQuerySchema,
  },
  responses: {
    200: {
      description: 'A page of deliveries',
      content: { 'application/json': { schema: WebhookDeliveryPageSchema } },
    },
    ...errorResponses(400, 404),
  },
})

export const access: RouteAccessRule = { scope: 'admin', rateLimit: 'requests' }

export const handler: HandlerFactory<typeof route, 'webhooks'> = (deps) => async (c) => {
  const { id, webhookId } = c.req.valid('param')
  const { limit, cursor } = c.req.valid('query')
  const afterId = pageAfter(cursor)
  const page = keysetPage(await deps.webhooks.deliveries(id, webhookId, { limit, afterId }), limit)
  return c.json(page, 200)
}

export const register = mountRoute(route, handler)
