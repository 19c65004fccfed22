import { createRoute, z } from '@hono/zod-openapi'
import type { RouteAccessRule } from '../../access/scopes.ts'
import { errorResponses } from '../../errors/responses.ts'
import { type HandlerFactory, mountRoute } from '../../http/route-types.ts'
import { KeyIdParamSchema } from '../../schemas/admin.ts'

export const route = createRoute({
  method: 'delete',
  path: '/v1/keys/{keyId}',
  operationId: 'revokeApiKey',
  tags: ['Admin'],
  summary: 'Revoke an API key',
  description:
    'The key stops working at once (its next request is a 401). Revoking a revoked key again is ' +
    'fine. With no admin key left, the next start of the server creates a new bootstrap key.',
  request: { params: z.object({ keyId: KeyIdParamSchema }) },
  responses: {
    204: { description: 'Revoked' },
    ...errorResponses(400, 404),
  },
})

export const access: RouteAccessRule = { scope: 'admin', rateLimit: 'requests' }

export const handler: HandlerFactory<typeof route, 'apiKeys'> = (deps) => async (c) => {
  await deps.apiKeys.revoke(c.req.valid('param').keyId)
  return c.body(null, 204)
}

export const register = mountRoute(route, handler)
