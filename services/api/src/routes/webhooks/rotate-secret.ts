import { createRoute, z } from '@hono/zod-openapi'
import type { RouteAccessRule } from '../../access/scopes.ts'
import { errorResponses } from '../../errors/responses.ts'
import { type HandlerFactory, mountRoute } from '../../http/route-types.ts'
import { WorkspaceIdParamSchema } from '../../schemas/admin.ts'
import { WebhookSigningSecretSchema } from '../../schemas/webhooks.ts'

export const route = createRoute({
  method: 'post',
  path: '/v1/workspaces/{id}/webhook-signing-secret',
  operationId: 'rotateWebhookSigningSecret',
  tags: ['Webhooks'],
  summary: "Make a new signing secret for requests' own webhook URLs",
  description:
    'Deliveries to a `webhook_url` given on a generation request are signed with the ' +
    "workspace's signing secret. One is made on first use, unseen; this call replaces it with " +
    'a new one and shows it, once. The old secret stops signing at once, pending deliveries ' +
    'included. Endpoints registered with POST /v1/workspaces/{id}/webhooks have secrets of ' +
    'their own.',
  request: { params: z.object({ id: WorkspaceIdParamSchema }) },
  responses: {
    200: {
      description: 'The new signing secret, shown this once',
      content: { 'application/json': { schema: WebhookSigningSecretSchema } },
    },
    ...errorResponses(400, 404),
  },
})

export const access: RouteAccessRule = { scope: 'admin', rateLimit: 'requests' }

export const handler: HandlerFactory<typeof route, 'webhooks'> = (deps) => async (c) =>
  c.json(await deps.webhooks.rotateSigningSecret(c.req.valid('param').id), 200)

export const register = mountRoute(route, handler)
