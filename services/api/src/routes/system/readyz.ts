import { createRoute, z } from '@hono/zod-openapi'
import type { RouteAccessRule } from '../../access/scopes.ts'
import { errorResponses } from '../../errors/responses.ts'
import { type HandlerFactory, mountRoute } from '../../http/route-types.ts'
import { checkDatabase, checkRedis } from '../../services/readiness.ts'

const CheckSchema = z.enum(['ok', 'failing'])
const ReadinessSchema = z
  .strictObject({
    status: z.enum(['ready', 'not_ready']),
    checks: z.strictObject({
      database: CheckSchema,
      dataDir: CheckSchema,
      /**
       * Present when IMAGEGATE_REDIS_URL is set. Reported, not required: while Redis is down
       * each instance enforces the limits by itself, so it can still serve.
       */
      redis: CheckSchema.optional(),
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
    'Checks that the database answers and the data directory is writable. With IMAGEGATE_REDIS_URL set it also reports whether Redis answers, without making the instance unready: while Redis is down, rate limits fall back to per-instance limits.',
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

export const handler: HandlerFactory<typeof route, 'checkDataDir' | 'database' | 'redis'> =
  (deps) => async (c) => {
    const probe = async (check: () => void | Promise<void>) => {
      try {
        await check()
        return 'ok' as const
      } catch (err) {
        c.get('log').warn({ err }, 'readiness check failed')
        return 'failing' as const
      }
    }
    const redis = deps.redis
    const checks = {
      database: await probe(() => checkDatabase(deps.database)),
      dataDir: await probe(() => deps.checkDataDir()),
      ...(redis ? { redis: await probe(() => checkRedis(redis)) } : {}),
    }
    const ready = checks.database === 'ok' && checks.dataDir === 'ok'
    return ready
      ? c.json({ status: 'ready' as const, checks }, 200)
      : c.json({ status: 'not_ready' as const, checks }, 503)
  }

export const register = mountRoute(route, handler)
