import type { MiddlewareHandler } from 'hono'
import { matchedRoutes } from 'hono/route'
import { Counter, collectDefaultMetrics, Histogram, Registry } from 'prom-client'
import type { GenerationMetrics } from '../../services/generation/types.ts'
import type { AppEnv } from '../env.ts'

/** The HTTP counters, and the generation service's port (GenerationMetrics) on the same registry. */
export type HttpMetrics = {
  registry: Registry
  requests: Counter<'method' | 'route' | 'status'>
  duration: Histogram<'method' | 'route' | 'status'>
  /** Images verified and stored, by model and provider. */
  images: Counter<'model' | 'provider'>
  /** Generations that failed for good, by error code. */
  generationFailures: Counter<'model' | 'code'>
  /** Limiter decisions made by this instance alone because Redis was unreachable. */
  localLimiterDecisions: Counter
}

/** One registry per app, so tests that build many apps never share counters. */
export function createMetrics(options: { defaultMetrics?: boolean } = {}): HttpMetrics {
  const registry = new Registry()
  if (options.defaultMetrics) {
    collectDefaultMetrics({ register: registry, prefix: 'imagegate_' })
  }
  const metrics: HttpMetrics = {
    registry,
    requests: new Counter({
      name: 'imagegate_http_requests_total',
      help: 'HTTP requests by route template and status',
      labelNames: ['method', 'route', 'status'],
      registers: [registry],
    }),
    duration: new Histogram({
      name: 'imagegate_http_request_duration_seconds',
      help: 'HTTP request latency by route template and status',
      labelNames: ['method', 'route', 'status'],
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 180],
      registers: [registry],
    }),
    images: new Counter({
      name: 'imagegate_images_generated_total',
      help: 'Images returned by providers, verified and stored',
      labelNames: ['model', 'provider'],
      registers: [registry],
    }),
    generationFailures: new Counter({
      name: 'imagegate_generation_failures_total',
      help: 'Generation requests that failed for good, by error code',
      labelNames: ['model', 'code'],
      registers: [registry],
    }),
    localLimiterDecisions: new Counter({
      name: 'imagegate_rate_limit_local_decisions_total',
      help: 'Rate-limit and failed-authentication decisions made per instance because Redis was unreachable',
      registers: [registry],
    }),
  }
  return metrics satisfies GenerationMetrics
}

/** Counts one answered request (`route` is a template or `unmatched`, never a raw path). */
export function countRequest(
  metrics: HttpMetrics,
  labels: { method: string; route: string; status: number },
  startedMs: number,
): void {
  const values = { method: labels.method, route: labels.route, status: String(labels.status) }
  metrics.requests.inc(values)
  metrics.duration.observe(values, (performance.now() - startedMs) / 1000)
}

/** Counts every request by its route template (never the raw path: ids would explode the labels). */
export function metricsMiddleware(metrics: HttpMetrics): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const started = performance.now()
    await next()
    const handlerRoute = matchedRoutes(c).findLast((matched) => matched.method !== 'ALL')
    countRequest(
      metrics,
      { method: c.req.method, route: handlerRoute?.path ?? 'unmatched', status: c.res.status },
      started,
    )
  }
}
