import { createRoute, z } from '@hono/zod-openapi'
import type { RouteAccessRule } from '../../access/scopes.ts'
import { errorResponses } from '../../errors/responses.ts'
import { type HandlerFactory, mountRoute } from '../../http/route-types.ts'
import { WorkspaceIdParamSchema } from '../../schemas/admin.ts'
import { WebhookCreatedSchema, WebhookCreateSchema } from '../../schemas/webhooks.ts'

export const route = createRoute({
  method: 'post',
  path: '/v1/workspaces/{id}/webhooks',
  operationId: 'createWebhook',
  tags: ['Webhooks'],
  summary: 'Register a webhook endpoint',
  description:
    'Generation events of the workspace are POSTed to `url`, signed as Standard Webhooks ' +
    'specifies (`webhook-id`, `webhook-timestamp`, `webhook-signature`). The answer holds the ' +
    'signing secret, once. The URL must be https and its host must resolve to public ' +
    'addresses only (400 unsafe_webhook_url); it is checked again before every delivery. ' +
    'Redirects are not followed; a 410 Gone answer disables the endpoint.',
  request: {
    params: z.object({ id: WorkspaceIdParamSchema }),
    body: { required: true, content: { 'application/json': { schema: WebhookCreateSchema } } },
  },
  responses: {
    201: {
      description: 'The endpoint, with its signing secret shown this once',
      content: { 'application/json': { schema: WebhookCreatedSchema } },
    },
    ...errorResponses(400, 404),
  },
})

export const access: RouteAccessRule = {
  scope: 'admin',
  rateLimit: 'requests',
  // Not idempotent: a stored answer would keep the secret in the idempotency records for 24 h.
}

export const handler: HandlerFactory<typeof route, 'webhooks'> = (deps) => async (c) => {
  const created = await deps.webhooks.register(c.req.valid('param').id, c.req.valid('json'))
  return c.json(created, 201)
}

export const register = mountRoute(route, handler)
