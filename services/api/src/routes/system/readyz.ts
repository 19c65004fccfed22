import { createRoute, z } from '@hono/zod-openapi'
import type { RouteAccessRule } from '../../access/scopes.ts'
import { errorResponses } from '../../errors/responses.ts'
import { type HandlerFactory, mountRoute } from '../../http/route-types.ts'
import { runProbes } from '../../services/readiness.ts'

const CheckSchema = z.enum(['ok', 'failing'])
const ReadinessSchema = z
  .strictObject({
    status: z.enum(['ready', 'not_ready']),
    checks: z.record(z.string(), CheckSchema).openapi({
      description:
        'One entry per configured backend: `database`, `dataDir`, `blobStore` (its directory, ' +
        'or the S3 bucket), and `redis` when IMAGEGATE_REDIS_URL is set',
    }),
  })
  .openapi('Readiness')

export const route = createRoute({
  method: 'get',
  path: '/readyz',
  operationId: 'getReadiness',
  tags: ['System'],
  summary: 'Readiness',
  description:
    'Checks every configured backend at once (the database, the data directory, the blob ' +
    'store, Redis), each within a short timeout, and answers 503 naming the ones that fail. ' +
    'Redis is reported without making the instance unready: while it is down, rate limits ' +
    'fall back to per-instance limits.',
  responses: {
    200: {
      description: 'Ready to serve',
      content: {
        'application/json': {
          schema: ReadinessSchema,
          example: {
            status: 'ready',
            checks: { database: 'ok', dataDir: 'ok', blobStore: 'ok' },
          },
        },
      },
    },
    503: {
      description: 'A backend is failing',
      content: {
        'application/json': {
          schema: ReadinessSchema,
          example: {
            status: 'not_ready',
            checks: { database: 'ok', dataDir: 'ok', blobStore: 'failing' },
          },
        },
      },
    },
    ...errorResponses(500),
  },
})

export const access: RouteAccessRule = { scope: 'public' }

export const handler: HandlerFactory<typeof route, 'readiness'> = (deps) => async (c) => {
  const outcomes = await runProbes(deps.readiness)
  const checks: Record<string, 'ok' | 'failing'> = {}
  for (const outcome of outcomes) {
    checks[outcome.name] = outcome.ok ? 'ok' : 'failing'
    if (!outcome.ok) {
      c.get('log').warn({ err: outcome.error, backend: outcome.name }, 'readiness check failed')
    }
  }
  return outcomes.every((outcome) => outcome.ok || !outcome.required)
    ? c.json({ status: 'ready' as const, checks }, 200)
    : c.json({ status: 'not_ready' as const, checks }, 503)
}

export const register = mountRoute(route, handler)
