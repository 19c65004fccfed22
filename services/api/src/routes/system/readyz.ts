import { createRoute, z } from '@hono/zod-openapi'
import type { RouteAccessRule } from '../../access/scopes.ts'
import { errorResponses } from '../../errors/responses.ts'
import { type HandlerFactory, mountRoute } from '../../http/route-types.ts'
import { checkDatabase } from '../../services/readiness.ts'

const CheckSchema = z.enum(['ok', 'failing'])
const ReadinessSchema = z
  .strictObject({
    status: z.enum(['ready', 'not_ready']),
    checks: z.strictObject({ database: CheckSchema, dataDir: CheckSchema }),
  })
  .openapi('Readiness')

export const route = createRoute({
  method: 'get',
  path: '/readyz',
  operationId: 'getReadiness',
  tags: ['System'],
  summary: 'Readiness',
  description: 'Checks that the database answers and the data directory is writable.',
  responses: {
    200: {
      description: 'Ready to serve',
      content: {
        'application/json': {
          schema: ReadinessSchema,
          example: { status: 'ready', checks: { database: 'ok', dataDir: 'ok' } },
        },
      },
    },
    503: {
      description: 'A dependency is failing',
      content: {
        'application/json': {
          schema: ReadinessSchema,
          example: { status: 'not_ready', checks: { database: 'ok', dataDir: 'failing' } },
        },
      },
    },
    ...errorResponses(500),
  },
})

export const access: RouteAccessRule = { scope: 'public' }

export const handler: HandlerFactory<typeof route, 'checkDataDir' | 'database'> = (deps) => (c) => {
  const probe = (check: () => void) => {
    try {
      check()
      return 'ok' as const
    } catch (err) {
      c.get('log').warn({ err }, 'readiness check failed')
      return 'failing' as const
    }
  }
  const checks = {
    database: probe(() => checkDatabase(deps.database)),
    dataDir: probe(() => deps.checkDataDir()),
  }
  const ready = checks.database === 'ok' && checks.dataDir === 'ok'
  return ready
    ? c.json({ status: 'ready' as const, checks }, 200)
    : c.json({ status: 'not_ready' as const, checks }, 503)
}

export const register = mountRoute(route, handler)
