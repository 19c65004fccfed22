import { createRoute, z } from '@hono/zod-openapi'
import type { RouteAccessRule } from '../../access/scopes.ts'
import { errorResponses } from '../../errors/responses.ts'
import { type HandlerFactory, mountRoute } from '../../http/route-types.ts'

export const route = createRoute({
  method: 'get',
  path: '/metrics',
  operationId: 'getMetrics',
  tags: ['System'],
  summary: 'Prometheus metrics',
  description:
    'Request counts and latency histograms by route template and status, in Prometheus text format.',
  responses: {
    200: {
      description: 'Prometheus text exposition',
      content: {
        'text/plain': {
          schema: z.string(),
          example:
            '# HELP imagegate_http_requests_total HTTP requests by route template and status\n' +
            '# TYPE imagegate_http_requests_total counter\n' +
            'imagegate_http_requests_total{method="GET",route="/healthz",status="200"} 3\n',
        },
      },
    },
    ...errorResponses(500),
  },
})

export const access: RouteAccessRule = { scope: 'admin', rateLimit: 'requests' }

export const handler: HandlerFactory<typeof route, 'metrics'> = (deps) => async (c) => {
  const text = await deps.metrics.registry.metrics()
  return c.text(text, 200, { 'content-type': deps.metrics.registry.contentType })
}

export const register = mountRoute(route, handler)
