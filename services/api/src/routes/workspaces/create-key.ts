import { createRoute, z } from '@hono/zod-openapi'
import type { RouteAccessRule } from '../../access/scopes.ts'
import { errorResponses } from '../../errors/responses.ts'
import { type HandlerFactory, mountRoute } from '../../http/route-types.ts'
import {
  ApiKeyCreatedSchema,
  ApiKeyCreateSchema,
  WorkspaceIdParamSchema,
} from '../../schemas/admin.ts'

export const route = createRoute({
  method: 'post',
  path: '/v1/workspaces/{id}/keys',
  operationId: 'createApiKey',
  tags: ['Admin'],
  summary: 'Create an API key',
  description:
    'A new key for the workspace with the given scopes and per-minute limits. The answer holds ' +
    'the key itself, once: only its sha256 is stored, so it cannot be shown again.',
  request: {
    params: z.object({ id: WorkspaceIdParamSchema }),
    body: { required: true, content: { 'application/json': { schema: ApiKeyCreateSchema } } },
  },
  responses: {
    201: {
      description: 'The new key, with the secret shown this once',
      content: { 'application/json': { schema: ApiKeyCreatedSchema } },
    },
    ...errorResponses(400, 404),
  },
})

export const access: RouteAccessRule = {
  scope: 'admin',
  rateLimit: 'requests',
  // Not idempotent: a stored answer would keep the raw key in the database for 24 h.
}

export const handler: HandlerFactory<typeof route, 'apiKeys'> = (deps) => async (c) => {
  const { id } = c.req.valid('param')
  const created = await deps.apiKeys.create(id, c.req.valid('json'))
  return c.json({ ...created.info, key: created.key }, 201)
}

export const register = mountRoute(route, handler)
