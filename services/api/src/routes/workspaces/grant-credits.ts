import { createRoute, z } from '@hono/zod-openapi'
import { creditsToUnits, unitsToCredits } from '../../access/credit-units.ts'
import type { RouteAccessRule } from '../../access/scopes.ts'
import { errorResponses } from '../../errors/responses.ts'
import { type HandlerFactory, mountRoute } from '../../http/route-types.ts'
import {
  CreditGrantResultSchema,
  CreditGrantSchema,
  WorkspaceIdParamSchema,
} from '../../schemas/admin.ts'

export const route = createRoute({
  method: 'post',
  path: '/v1/workspaces/{id}/credits',
  operationId: 'grantCredits',
  tags: ['Admin'],
  summary: 'Grant credits to a workspace',
  description:
    'Adds credits (1 credit = 1 US cent) to the balance, as a `grant` row of the append-only ' +
    'ledger. Send an Idempotency-Key: a retried grant is then applied once.',
  request: {
    params: z.object({ id: WorkspaceIdParamSchema }),
    body: { required: true, content: { 'application/json': { schema: CreditGrantSchema } } },
  },
  responses: {
    200: {
      description: 'The grant and the new balance',
      content: { 'application/json': { schema: CreditGrantResultSchema } },
    },
    ...errorResponses(400, 404),
  },
})

export const access: RouteAccessRule = { scope: 'admin', rateLimit: 'requests', idempotent: true }

export const handler: HandlerFactory<typeof route, 'credits' | 'workspaces'> =
  (deps) => async (c) => {
    const { id } = c.req.valid('param')
    const { amount } = c.req.valid('json')
    await deps.workspaces.get(id)
    // Stable across retries of one Idempotency-Key: a grant committed just before a crash is not
    // applied again by the retry that takes the key over.
    const reference = `grant:${id}:${c.get('charge')?.requestReference ?? c.get('requestId')}`
    const { balance } = await deps.credits.grant(id, amount, reference)
    // What the ledger booked, in credits: the amount as the ledger's whole units.
    const granted = unitsToCredits(creditsToUnits(amount))
    return c.json({ workspaceId: id, granted, balance }, 200)
  }

export const register = mountRoute(route, handler)
